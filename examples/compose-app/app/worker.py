"""The task board's worker: takes task ids from the Redis queue and does them (shouts the title) in PostgreSQL."""
import os

import psycopg2
import redis

DATABASE_URL = os.environ["DATABASE_URL"]
QUEUE = redis.Redis.from_url(os.environ["REDIS_URL"])

print("worker waiting for tasks", flush=True)
connection = psycopg2.connect(DATABASE_URL)
connection.autocommit = True
while True:
    _, task_id = QUEUE.brpop("tasks")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tasks SET status = 'done', result = upper(title) WHERE id = %s", (int(task_id),))
    print(f"did task {int(task_id)}", flush=True)
