package api

import (
	"context"
	"net/url"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/accesskeys"
)

// KeystoneListProjects answers GET /v3/projects?name=: the pseudo-project of
// that (region) name in the caller's domain, so that SDK clients built with
// a region find their project id. Projects are not stored (package
// accesskeys, ProjectID).
func (h *Handlers) KeystoneListProjects(ctx context.Context, req gen.KeystoneListProjectsRequestObject) (gen.KeystoneListProjectsResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(req.Params.Name)
	self := h.PublicURL + "/v3/projects"
	if req.Params.Name != nil {
		self += "?name=" + url.QueryEscape(name)
	}
	out := gen.KeystoneListProjects200JSONResponse{
		Projects: []gen.KeystoneProject{},
		Links:    gen.KeystoneLinks{Self: self},
	}
	if regionLike(name) {
		id := accesskeys.ProjectID(p.DomainID, name)
		out.Projects = append(out.Projects, gen.KeystoneProject{
			Id: id, Name: name, DomainId: p.DomainID, Enabled: true, Description: "",
			ParentId: p.DomainID, IsDomain: false,
			Links: gen.KeystoneSelfLink{Self: h.PublicURL + "/v3/projects/" + id},
		})
	}
	return out, nil
}

// regionLike accepts 1-64 letters, digits, '-', '_' and '.' (region names
// such as cn-north-4, and Keystone sub-project names region_name).
func regionLike(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
