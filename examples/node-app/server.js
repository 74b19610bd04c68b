// A small web app for previews (Express): a page that greets its visitor and says which build it is, and a health check.
"use strict";
const express = require("express");
const escapeHtml = require("escape-html");

const port = Number(process.env.PORT || 3000);
const message = process.env.MESSAGE || "Hello from node-app";
const app = express();

app.get("/healthz", (_request, response) => response.type("text/plain").send("ok\n"));

app.get("/", (request, response) => {
  const name = typeof request.query.name === "string" ? request.query.name : "visitor";
  response.type("html").send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(message)}</title></head><body><h1 id="message">${escapeHtml(message)}</h1><p>Welcome, ${escapeHtml(name)}.</p></body></html>\n`);
});

const server = app.listen(port, () => console.log(`node-app listening on ${port}`));
// docker stop sends SIGTERM to PID 1: finish quickly instead of waiting for the kill.
process.on("SIGTERM", () => server.close(() => process.exit(0)));
