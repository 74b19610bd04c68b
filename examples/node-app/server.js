// A small web app for previews: a page that greets its visitor and says which build it is, and a health check.
"use strict";
const http = require("node:http");
const escapeHtml = require("escape-html");

const port = Number(process.env.PORT || 3000);
const message = process.env.MESSAGE || "Hello from node-app";

const server = http.createServer((request, response) => {
  const url = new URL(request.url, "http://localhost");
  if (url.pathname === "/healthz") {
    response.writeHead(200, { "content-type": "text/plain" });
    return response.end("ok\n");
  }
  if (url.pathname !== "/") {
    response.writeHead(404, { "content-type": "text/plain" });
    return response.end("not found\n");
  }
  const name = url.searchParams.get("name") || "visitor";
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(message)}</title></head><body><h1 id="message">${escapeHtml(message)}</h1><p>Welcome, ${escapeHtml(name)}.</p></body></html>\n`);
});

server.listen(port, () => console.log(`node-app listening on ${port}`));
// docker stop sends SIGTERM to PID 1: finish quickly instead of waiting for the kill.
process.on("SIGTERM", () => server.close(() => process.exit(0)));
