// Starts Swagger UI on /openapi.yaml. A file of its own, not an inline script, so that the page's
// Content-Security-Policy can allow scripts of this origin only (script-src 'self').
// validatorUrl: null keeps Swagger UI from calling its public online validator; queryConfigEnabled:
// false keeps it from reading ?url= or ?configUrl= from the address, which would let a link render
// another description (and its markup) on this origin.
window.ui = SwaggerUIBundle({
  url: '/openapi.yaml',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  queryConfigEnabled: false
});
