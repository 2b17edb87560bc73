package api

import (
	"context"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/clients"
	"github.com/latchkey/latchkey/impl/fault"
)

// Administration of the CIAM OAuth clients of a domain: a latchkey extension
// of the IAM v3.0 family (/v3.0/OS-CIAM/clients), for domain admins.

func iamCiamClient(c clients.Client) gen.IamCiamClient {
	return gen.IamCiamClient{ClientId: c.ID, Name: c.Name, DomainId: c.DomainID, CreatedAt: wireTime(c.CreatedAt)}
}

// adminCaller returns the caller if it administers its own domain.
func (h *Handlers) adminCaller(ctx context.Context) (domainID string, err error) {
	p, err := caller(ctx)
	if err != nil {
		return "", err
	}
	if err := requireAdmin(p, p.DomainID); err != nil {
		return "", err
	}
	return p.DomainID, nil
}

// CreateCiamClient creates an OAuth client of the caller's domain; the
// answer shows its secret this once.
func (h *Handlers) CreateCiamClient(ctx context.Context, req gen.CreateCiamClientRequestObject) (gen.CreateCiamClientResponseObject, error) {
	ctx = reqCtx(ctx)
	domainID, err := h.adminCaller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, fault.New(fault.BodyInvalid, "Request body is invalid.")
	}
	in := req.Body.Client
	c, secret, err := h.Clients.Create(ctx, domainID, clients.Input{Name: deref(in.Name), Secret: deref(in.ClientSecret)})
	if err != nil {
		return nil, err
	}
	return gen.CreateCiamClient201JSONResponse{Client: gen.IamCiamCreatedClient{
		ClientId: c.ID, ClientSecret: secret, Name: c.Name, DomainId: c.DomainID, CreatedAt: wireTime(c.CreatedAt),
	}}, nil
}

// ListCiamClients lists the OAuth clients of the caller's domain.
func (h *Handlers) ListCiamClients(ctx context.Context, _ gen.ListCiamClientsRequestObject) (gen.ListCiamClientsResponseObject, error) {
	ctx = reqCtx(ctx)
	domainID, err := h.adminCaller(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.Clients.List(ctx, domainID)
	if err != nil {
		return nil, err
	}
	out := gen.ListCiamClients200JSONResponse{Clients: make([]gen.IamCiamClient, 0, len(list))}
	for _, c := range list {
		out.Clients = append(out.Clients, iamCiamClient(c))
	}
	return out, nil
}

// DeleteCiamClient deletes an OAuth client of the caller's domain and ends
// its tokens.
func (h *Handlers) DeleteCiamClient(ctx context.Context, req gen.DeleteCiamClientRequestObject) (gen.DeleteCiamClientResponseObject, error) {
	ctx = reqCtx(ctx)
	domainID, err := h.adminCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.Clients.Delete(ctx, domainID, req.ClientId); err != nil {
		return nil, err
	}
	return gen.DeleteCiamClient204Response{}, nil
}
