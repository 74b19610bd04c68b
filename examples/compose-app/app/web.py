"""The task board's web process: lists the tasks, takes new ones and queues them for the worker."""
import html
import json
import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import redis

DATABASE_URL = os.environ["DATABASE_URL"]
QUEUE = redis.Redis.from_url(os.environ["REDIS_URL"])
APP_URL = os.environ.get("APP_URL", "/")


def tasks():
    with psycopg2.connect(DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id, title, status, coalesce(result, '') FROM tasks ORDER BY id")
        return [{"id": row[0], "title": row[1], "status": row[2], "result": row[3]} for row in cursor.fetchall()]


def add(title):
    with psycopg2.connect(DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO tasks (title) VALUES (%s) RETURNING id", (title,))
        task_id = cursor.fetchone()[0]
    # Queued after the commit, so the worker always finds the row.
    QUEUE.lpush("tasks", task_id)
    return task_id


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Task board</title>
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
li{{margin:.4rem 0}} .queued{{color:#a60}} .done{{color:#070}}</style></head>
<body><h1>Task board</h1>
<p>This demo runs at <code>{url}</code>: four services (web, worker, PostgreSQL, Redis) of its own.</p>
<form method="post" action="/tasks"><label>New task <input name="title" required maxlength="200"></label>
<button>Add task</button></form>
<ul id="tasks">{items}</ul></body></html>"""


class Handler(BaseHTTPRequestHandler):
    def send(self, status, body, content_type="text/html; charset=utf-8", headers=None):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            QUEUE.ping()
            tasks()
            return self.send(200, "ok\n", "text/plain")
        if self.path == "/tasks.json":
            return self.send(200, json.dumps(tasks()), "application/json")
        if self.path != "/":
            return self.send(404, "not found\n", "text/plain")
        listed = tasks()
        items = "".join(
            f'<li class="{task["status"]}" data-task="{task["id"]}">{html.escape(task["title"])} '
            f'<strong>{task["status"]}</strong> {html.escape(task["result"])}</li>'
            for task in listed
        )
        # While the worker has tasks to do, the page looks again each second.
        refresh = '<meta http-equiv="refresh" content="1">' if any(task["status"] == "queued" for task in listed) else ""
        self.send(200, PAGE.format(url=html.escape(APP_URL), items=items, refresh=refresh))

    def do_POST(self):
        if self.path != "/tasks":
            return self.send(404, "not found\n", "text/plain")
        length = min(int(self.headers.get("Content-Length", "0")), 10_000)
        fields = urllib.parse.parse_qs(self.rfile.read(length).decode())
        title = (fields.get("title") or [""])[0].strip()
        if not title:
            return self.send(400, "a task needs a title\n", "text/plain")
        add(title[:200])
        self.send(303, "", headers={"Location": "/"})

    def log_message(self, format, *args):
        print(format % args, flush=True)


if __name__ == "__main__":
    print("task board listening on :8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
