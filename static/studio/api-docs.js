// Swagger UI over the studio's OpenAPI schema. The bundle (a classic deferred script, from the
// drf-spectacular-sidecar package) has run before this module; "Try it out" sends the CSRF token.
import {csrfToken} from "../common/http.js";

const root = document.getElementById("swagger-ui");

window.SwaggerUIBundle({
  url: root.dataset.schemaUrl,
  domNode: root,
  deepLinking: true,
  persistAuthorization: false,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: (request) => {
    request.headers["X-CSRFToken"] = csrfToken();
    return request;
  },
});
