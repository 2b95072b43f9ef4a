/** The OpenAPI 3.1 document, generated from the route table and its input checks. */
import { ALL_ROUTES } from "./routes.ts";

const ERROR = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" } },
      required: ["code", "message"],
    },
  },
  required: ["error"],
};

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ALL_ROUTES) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const query = r.query?.json as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {})) {
      params.push({ name, in: "query", required: query?.required?.includes(name) ?? false, schema } as never);
    }
    const auth = r.auth.kind === "none"
      ? []
      : [{ ucan: [r.auth.kind === "op" ? `signed operation (${r.auth.op})` : r.auth.command] }];
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: r.body.json } } } } : {}),
      security: auth,
      ...(r.websocket ? { "x-websocket": true } : {}),
      responses: {
        "200": { description: "OK" },
        ...(r.auth.kind !== "none"
          ? {
            "400": { description: "Bad input", content: { "application/json": { schema: ERROR } } },
            "401": { description: "No or invalid credentials", content: { "application/json": { schema: ERROR } } },
            "403": { description: "Not allowed", content: { "application/json": { schema: ERROR } } },
            "404": { description: "Not found", content: { "application/json": { schema: ERROR } } },
            "409": { description: "Conflict", content: { "application/json": { schema: ERROR } } },
          }
          : {}),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Weft peer API",
      version,
      description: "Every call carries a UCAN 1.0 invocation: `Authorization: Bearer <UCAN container>` " +
        "(ucan-wg/container, 'C' form). Queries invoke the route's command on this node or a space, naming the " +
        "request in args {method, path, body: sha256 hex}; task operations send the signed operation itself.",
    },
    components: {
      securitySchemes: { ucan: { type: "http", scheme: "bearer", bearerFormat: "UCAN container (ctn-v1)" } },
    },
    paths,
  };
}
