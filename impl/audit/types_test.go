package audit

import (
	"slices"
	"testing"

	"github.com/latchkey/latchkey/gen"
)

// The event types are the API's IamAuditEventType enum: the two lists must
// be the same, or an event would fail response validation (or a filter
// would be refused).
func TestTypesMatchTheSpec(t *testing.T) {
	spec, err := gen.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	ref := spec.Components.Schemas["IamAuditEventType"]
	if ref == nil || ref.Value == nil {
		t.Fatal("no IamAuditEventType in the spec")
	}
	var inSpec []string
	for _, v := range ref.Value.Enum {
		inSpec = append(inSpec, v.(string))
	}
	var ours []string
	for _, typ := range Types() {
		ours = append(ours, string(typ))
		if len(typ) > 48 { // store.AuditEvent.Type is size:48
			t.Errorf("type %s is longer than the column", typ)
		}
		if !gen.IamAuditEventType(typ).Valid() {
			t.Errorf("type %s is not in the generated enum", typ)
		}
	}
	slices.Sort(inSpec)
	slices.Sort(ours)
	if !slices.Equal(inSpec, ours) {
		t.Fatalf("spec enum %v\n   Types() %v", inSpec, ours)
	}
}
