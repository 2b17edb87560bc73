package config

import (
	"io"
	"testing"
)

func TestMetricsFlag(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"default on", nil, nil, true},
		{"flag off", []string{"--metrics=false"}, nil, false},
		{"env off", nil, map[string]string{"LATCHKEY_METRICS": "false"}, false},
		{"flag wins over env", []string{"--metrics=true"}, map[string]string{"LATCHKEY_METRICS": "false"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("serve", tc.args, env(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.Metrics != tc.want {
				t.Errorf("Metrics = %v, want %v", c.Metrics, tc.want)
			}
		})
	}
}
