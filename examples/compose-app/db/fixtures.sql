-- The task board's schema and the tasks every demo starts with.
CREATE TABLE tasks (
  id serial PRIMARY KEY,
  title text NOT NULL,
  status text NOT NULL DEFAULT 'queued',
  result text,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tasks (title, status, result) VALUES
  ('Welcome to the task board', 'done', 'WELCOME TO THE TASK BOARD'),
  ('Add a task: the worker shouts it back', 'done', 'ADD A TASK: THE WORKER SHOUTS IT BACK');
