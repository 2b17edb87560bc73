package server

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	swaggerFiles "github.com/swaggo/files/v2"

	"github.com/latchkey/latchkey/impl/envelope"
	"github.com/latchkey/latchkey/impl/fault"
)

// docsIndex is our own page: the distribution's index.html would be
// redirected into a loop by http.FileServer, and its initializer points at
// the petstore. Every asset is local (no CDN).
const docsIndex = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>latchkey API</title>
<link rel="stylesheet" type="text/css" href="./swagger-ui.css">
<link rel="stylesheet" type="text/css" href="./index.css">
<link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="./favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="./swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
`

// docsInitializer loads our spec; validatorUrl null keeps the page from
// calling the public validator, BaseLayout drops the "explore any URL" bar.
const docsInitializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "../openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: true,
    oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect.html",
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout"
  });
};
`

func isDocsRoute(p string) bool {
	return p == "/docs" || p == "/docs/*file" || p == "/openapi.json" || p == "/openapi.yaml"
}

// serveDocs registers the spec documents and Swagger UI.
func serveDocs(e *gin.Engine, specJSON, specYAML func() ([]byte, error)) {
	doc := func(contentType string, render func() ([]byte, error)) gin.HandlerFunc {
		return func(c *gin.Context) {
			b, err := render()
			if err != nil {
				envelope.Write(c, fault.Wrap(fault.Internal, err, "render the spec"))
				return
			}
			c.Data(http.StatusOK, contentType, b)
		}
	}
	e.GET("/openapi.json", doc("application/json", specJSON))
	e.GET("/openapi.yaml", doc("application/yaml", specYAML))
	e.GET("/docs", func(c *gin.Context) {
		c.Redirect(http.StatusMovedPermanently, "/docs/")
	})
	assets := http.FS(swaggerFiles.FS)
	e.GET("/docs/*file", func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		switch name {
		case "", "index.html":
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsIndex))
			return
		case "swagger-initializer.js":
			c.Data(http.StatusOK, "text/javascript; charset=utf-8", []byte(docsInitializer))
			return
		}
		if fi, err := fs.Stat(swaggerFiles.FS, name); err != nil || fi.IsDir() || strings.Contains(name, "..") {
			c.Data(http.StatusNotFound, "application/json", []byte(`{"error":"not found"}`+"\n"))
			return
		}
		h.Set("Cache-Control", "public, max-age=86400")
		c.FileFromFS(name, assets)
	})
}
