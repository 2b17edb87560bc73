package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// jsonSamples cover the grammar, escapes, UTF-8 repair, numbers as
// literals, NULs, trailing data and the nesting limit.
var jsonSamples = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `true`, `false`, `null`, ` {"a" : [ 1 , 2 ] } `, "\t\r\n1\n",
	`{"a":[1,2.5e3,-0.0,1E+2,1e-7,true,false,null,"x",{}]}`, `{"a":1,"a":{"b":2}}`, `{"":""}`,
	`12345678901234567890123456789`, `1e999`, `-1.5E-300`,
	`"\ud83d\ude00"`, `"\ud800x"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud800\ud800\udc00"`, `"\ud800"`,
	"\"\xff\xfe\"", "\"\xed\xa0\x80\"", "\"a\xc3\"", `"é"`, `"\u00e9\u00E9"`, `"\"\\\/\b\f\n\r\t"`,
	`{"a":"\u0000"}`, `{"\u0000":1}`, `{"a":"\u0000","a":1}`, `["x\u0000"]`,
	`1 2`, `{} x`, `{}}`, `[1,]`, `{"a":1,}`, `01`, `1.`, `.1`, `1e`, `1e+`, `-`, `+1`, `"\x"`, `"\'"`,
	"\"a\tb\"", "\"a\x00b\"", `"\u12"`, `"\u12g4"`, "\ufeff{}", `nul`, `truex`, `[1 2]`, `{"a" 1}`,
	`{1:2}`, `{"a":}`, `[`, `{`, `"abc`, ``, ` `, `NaN`, `[[[[]]]]`, `{"a":{"b":[{},[]]}}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

// sameAsStd checks that strictJSON gives exactly what the encoding/json
// version gives: the same values, or both an error with the same text.
func sameAsStd(t *testing.T, in []byte) {
	t.Helper()
	want, wantErr := strictJSONStd(in)
	got, gotErr := strictJSON(bytes.NewReader(in), nil, nil, nil)
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("%q: error %v, encoding/json says %v", clip(string(in), 80), gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: value %#v, encoding/json gives %#v", clip(string(in), 80), got, want)
	}
	// The same through checkJSON, whose objects are reused from one call to
	// the next: a member left over from an earlier body would show here.
	decodeErr, _ := checkJSON(in, func(v any) error {
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("%q: checkJSON value %#v, encoding/json gives %#v", clip(string(in), 80), v, want)
		}
		return nil
	})
	if errText(decodeErr) != errText(wantErr) {
		t.Fatalf("%q: checkJSON error %v, encoding/json says %v", clip(string(in), 80), decodeErr, wantErr)
	}
	// The parser alone must agree on validity (the fallback hides a
	// disagreement from the check above).
	var pe *openapi3filter.ParseError
	valid := wantErr == nil || errors.As(wantErr, &pe) && pe.Cause == errNUL
	var p jsonParser
	if _, ok := p.parse(in); ok != valid {
		t.Fatalf("%q: parser says valid=%v, encoding/json says %v", clip(string(in), 80), ok, wantErr)
	}
}

func TestStrictJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		sameAsStd(t, []byte(s))
	}
}

func TestStrictJSONRefusals(t *testing.T) {
	for in, want := range map[string]error{
		`{"a":1} {"b":2}`:    errTrailing,
		`{"a":"x\u0000y"}`:   errNUL,
		`{"a\u0000":1}`:      errNUL,
		`[{"a":["\u0000"]}]`: errNUL,
	} {
		_, err := strictJSON(strings.NewReader(in), nil, nil, nil)
		var pe *openapi3filter.ParseError
		if !errors.As(err, &pe) || pe.Cause != want {
			t.Errorf("%s: got %v, want %v", in, err, want)
		}
	}
}

// TestCheckJSONReuse: objects are reused only after a check that passed; a
// value a failed check refers to (as a schema error does) stays intact.
func TestCheckJSONReuse(t *testing.T) {
	var kept any
	failed := errors.New("off-spec")
	if _, err := checkJSON([]byte(`{"a":{"b":"c"},"d":[{"e":1}]}`), func(v any) error { kept = v; return failed }); !errors.Is(err, failed) {
		t.Fatalf("check error %v", err)
	}
	var passed any
	for i := 0; i < 100; i++ {
		body := []byte(`{"x":{"y":"z"},"w":[{"v":2}],"u":{}}`)
		if _, err := checkJSON(body, func(v any) error { passed = v; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]any{"a": map[string]any{"b": "c"}, "d": []any{map[string]any{"e": json.Number("1")}}}
	if !reflect.DeepEqual(kept, want) {
		t.Fatalf("value of a failed check changed: %#v", kept)
	}
	// A value that passed is not to be kept: its objects were cleared for reuse.
	if m := passed.(map[string]any); len(m) != 0 {
		t.Fatalf("objects of a passed check were not reused: %#v", m)
	}
}

// FuzzJSONParser: go test -run '^$' -fuzz FuzzJSONParser ./impl/server/
func FuzzJSONParser(f *testing.F) {
	for _, s := range jsonSamples {
		if len(s) < 1000 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) { sameAsStd(t, in) })
}

func BenchmarkDecodeResponse(b *testing.B) {
	body := []byte(`{"user":{"domain_id":"d1","enabled":true,"id":"0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4",` +
		`"links":{"self":"https://iam.example.com/v3/users/0c5a1e2b3d4f45a6b7c8d9e0f1a2b3c4"},"name":"alice",` +
		`"password_expires_at":null,"tags":["a","b"],"count":3}}`)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := strictJSONStd(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parser", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := strictJSON(bytes.NewBuffer(body), nil, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
