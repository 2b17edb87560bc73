// Package openapi embeds the hand-written contract so the server can serve it
// verbatim (comments and key order intact) at /openapi.yaml.
package openapi

import _ "embed"

// YAML is openapi/latchkey.yaml as written.
//
//go:embed latchkey.yaml
var YAML []byte
