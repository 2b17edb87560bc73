package config

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestPepperSettings(t *testing.T) {
	hexA := strings.Repeat("a5", 32) // 32 bytes
	b64B := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5b}, 40))
	hexC := strings.Repeat("3c", 33)
	short := strings.Repeat("e7", 31)
	secrets := []string{hexA, b64B, hexC, short}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantCur string // "" = no current pepper
		wantOld string // IDs, comma-separated
		wantErr bool
	}{
		{name: "none"},
		{name: "flag", args: []string{"--pepper", "p1:" + hexA}, wantCur: "p1"},
		{name: "env", env: map[string]string{"LATCHKEY_PEPPER": "p2:" + b64B}, wantCur: "p2"},
		{name: "flag wins over env", args: []string{"--pepper", "p1:" + hexA},
			env: map[string]string{"LATCHKEY_PEPPER": "p2:" + b64B}, wantCur: "p1"},
		{name: "rotation", args: []string{"--pepper", "p3:" + hexC, "--old-peppers", "p1:" + hexA + ",p2:" + b64B},
			wantCur: "p3", wantOld: "p1,p2"},
		{name: "old in env", args: []string{"--pepper", "p3:" + hexC},
			env: map[string]string{"LATCHKEY_OLD_PEPPERS": "p1:" + hexA}, wantCur: "p3", wantOld: "p1"},
		{name: "old only", args: []string{"--old-peppers", "p1:" + hexA}, wantOld: "p1"},
		{name: "no id", args: []string{"--pepper", hexA}, wantErr: true},
		{name: "too short", args: []string{"--pepper", "p1:" + short}, wantErr: true},
		{name: "too short in env", env: map[string]string{"LATCHKEY_PEPPER": "p1:" + short}, wantErr: true},
		{name: "not an encoding", args: []string{"--pepper", "p1:" + hexA + "#"}, wantErr: true},
		{name: "bad old", args: []string{"--pepper", "p3:" + hexC, "--old-peppers", "p1:" + short}, wantErr: true},
		{name: "duplicate id", args: []string{"--pepper", "p1:" + hexC, "--old-peppers", "p1:" + hexA}, wantErr: true},
		{name: "duplicate old id", args: []string{"--old-peppers", "p1:" + hexA + ",p1:" + b64B}, wantErr: true},
		{name: "secret as id", args: []string{"--pepper", hexA + ":" + hexC}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			c, err := Parse("serve", tc.args, env(tc.env), &out)
			if tc.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				for _, s := range secrets {
					if strings.Contains(err.Error(), s[:16]) || strings.Contains(out.String(), s[:16]) {
						t.Fatalf("error %q (output %q) echoes a secret", err, out.String())
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			cur, old, err := c.Peppers()
			if err != nil {
				t.Fatalf("Peppers: %v", err)
			}
			gotCur := ""
			if cur != nil {
				gotCur = cur.ID
			}
			var ids []string
			for _, p := range old {
				ids = append(ids, p.ID)
			}
			if gotCur != tc.wantCur || strings.Join(ids, ",") != tc.wantOld {
				t.Fatalf("peppers %q %q, want %q %q", gotCur, ids, tc.wantCur, tc.wantOld)
			}
		})
	}
}
