package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/latchkey/latchkey/openapi"
)

// TestValidateResponseMatchesKin holds validateJSONResponse to
// openapi3filter.ValidateResponse: for every operation of the test spec and
// of the real contract, every documented status and a few undocumented
// ones, several content types, and bodies made from the contract's examples
// (as given, and with a member removed or of another type) plus malformed
// ones, wherever the fast path answers, it must answer as kin-openapi does,
// message included.
func TestValidateResponseMatchesKin(t *testing.T) {
	useStrictJSON()
	testSpec, _ := loadSpec(t)
	realSpec, err := openapi3.NewLoader().LoadFromData(openapi.YAML)
	if err != nil {
		t.Fatal(err)
	}
	// Mutated examples are tried with the JSON content types; the malformed
	// bodies with all.
	jsonTypes := []string{"application/json; charset=utf-8", "Application/JSON ; charset=UTF-8"}
	allTypes := append([]string{"application/json", "text/plain; charset=utf-8", "", "application/problem+json",
		"application/vnd.openstack.identity-v3+json"}, jsonTypes...)
	raw := [][]byte{nil, []byte(`{`), []byte(`{} x`), []byte(`[]`), []byte(`{"a":"\u0000"}`),
		[]byte(`{"error":{"code":401,"title":"x","message":"y"}}`)}
	var fast, fastValid int
	compare := func(name string, in *openapi3filter.RequestValidationInput, status int, ct string, body []byte) {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		done, err := validateJSONResponse(&openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: status, Header: h, Options: respOpts,
		}, body)
		if !done {
			return
		}
		br := &bodyReader{}
		br.Reset(body)
		want := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: status, Header: h, Options: respOpts, Body: br,
		})
		if errText(err) != errText(want) {
			t.Fatalf("%s %s %s %d %q %s:\nfast: %v\nkin:  %v", name, in.Request.Method, in.Route.Path, status, ct, body, err, want)
		}
		fast++
		if err == nil {
			fastValid++
		}
	}
	for name, spec := range map[string]*openapi3.T{"testdata": testSpec, "contract": realSpec} {
		routes, err := buildRoutes(spec)
		if err != nil {
			t.Fatal(err)
		}
		for method, byPath := range routes {
			for _, rt := range byPath {
				req, _ := http.NewRequest(method, "http://x/", nil)
				in := &openapi3filter.RequestValidationInput{Request: req, Route: &rt.kin}
				for _, status := range statuses(rt.kin.Operation) {
					for _, ct := range allTypes {
						for _, body := range raw {
							compare(name, in, status, ct, body)
						}
					}
					for _, ex := range responseExamples(rt.kin.Operation, status) {
						for _, v := range mutations(ex, 0) {
							body, _ := json.Marshal(v)
							for _, ct := range jsonTypes {
								compare(name, in, status, ct, body)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d responses validated by the fast path, %d valid", fast, fastValid)
	if fastValid < 500 || fast-fastValid < 2000 {
		t.Fatalf("too few valid (%d) or invalid (%d) cases to mean anything", fastValid, fast-fastValid)
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// statuses are the documented statuses, one that is not, and 304 (which
// kin-openapi never validates).
func statuses(op *openapi3.Operation) []int {
	out := []int{304, 418}
	for code := range op.Responses.Map() {
		if n, err := strconv.Atoi(code); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// responseExamples are the examples documented for status (decoded).
func responseExamples(op *openapi3.Operation, status int) []any {
	ref := op.Responses.Status(status)
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return nil
	}
	var out []any
	for _, mt := range ref.Value.Content {
		if mt.Example != nil {
			out = append(out, mt.Example)
		}
		for _, ex := range mt.Examples {
			if ex != nil && ex.Value != nil && ex.Value.Value != nil {
				out = append(out, ex.Value.Value)
			}
		}
	}
	return out
}

// mutations returns v and copies of it with one member (down to depth 2)
// removed or replaced by a value of another type.
func mutations(v any, depth int) []any {
	out := []any{v}
	if depth > 2 {
		return out
	}
	others := []any{nil, -1.5, "str", []any{}, map[string]any{}}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			without := clone(x)
			delete(without, k)
			out = append(out, without)
			for _, o := range append(others, mutations(x[k], depth+1)[1:]...) {
				m := clone(x)
				m[k] = o
				out = append(out, m)
			}
		}
		extra := clone(x)
		extra["zz_unknown"] = "x"
		out = append(out, extra)
	case []any:
		if len(x) > 0 {
			for _, o := range append(others, mutations(x[0], depth+1)[1:]...) {
				a := append([]any{o}, x[1:]...)
				out = append(out, a)
			}
		}
	}
	return out
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
