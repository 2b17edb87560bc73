package api

import (
	"context"

	"github.com/latchkey/latchkey/gen"
	"github.com/latchkey/latchkey/impl/audit"
)

// ListAuditEvents lists the security audit trail of the caller's domain
// (admin; a latchkey extension).
func (h *Handlers) ListAuditEvents(ctx context.Context, req gen.ListAuditEventsRequestObject) (gen.ListAuditEventsResponseObject, error) {
	ctx = reqCtx(ctx)
	p, err := domainAdmin(ctx)
	if err != nil {
		return nil, err
	}
	q := req.Params
	f := audit.Filter{UserID: deref(q.UserId), Limit: deref(q.Limit), Marker: deref(q.Marker)}
	if q.Type != nil {
		f.Type = audit.Type(*q.Type)
	}
	if q.Since != nil {
		f.Since = *q.Since
	}
	if q.Until != nil {
		f.Until = *q.Until
	}
	page, err := h.Audit.List(ctx, p.DomainID, f)
	if err != nil {
		return nil, err
	}
	out := gen.ListAuditEvents200JSONResponse{
		Events:   make([]gen.IamAuditEvent, 0, len(page.Events)),
		PageInfo: gen.IamAuditPageInfo{CurrentCount: len(page.Events)},
	}
	if page.NextMarker != "" {
		out.PageInfo.NextMarker = ptr(page.NextMarker)
	}
	for _, r := range page.Events {
		out.Events = append(out.Events, gen.IamAuditEvent{
			Id: r.ID, Type: gen.IamAuditEventType(r.Type), Time: wireTime(r.Time), DomainId: r.DomainID,
			ActorId: r.ActorID, ActorType: gen.IamAuditEventActorType(r.ActorType), TargetId: r.TargetID,
			SourceIp: r.SourceIP, Outcome: gen.IamAuditEventOutcome(r.Outcome), Detail: r.Detail,
		})
	}
	return out, nil
}
