package api

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/gen"
)

// Healthz answers while the process serves requests.
func (h *Handlers) Healthz(_ context.Context, _ gen.HealthzRequestObject) (gen.HealthzResponseObject, error) {
	return gen.Healthz200JSONResponse{Status: gen.Ok}, nil
}

// Readyz answers 200 when the database answers.
func (h *Handlers) Readyz(ctx context.Context, _ gen.ReadyzRequestObject) (gen.ReadyzResponseObject, error) {
	ctx, cancel := context.WithTimeout(reqCtx(ctx), 2*time.Second)
	defer cancel()
	if err := h.DB.Ping(ctx); err != nil {
		h.Log.Warn("readiness: database does not answer", "err", err)
		return gen.Readyz503JSONResponse{Status: gen.Unavailable}, nil
	}
	return gen.Readyz200JSONResponse{Status: gen.Ok}, nil
}
