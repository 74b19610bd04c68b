-- examples/notes-postgres: the notes every visitor starts from (the default state source, loaded at build time).
CREATE TABLE notes (id serial PRIMARY KEY, text text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO notes (text, created_at) VALUES
  ('Welcome: add a note, then press "Reset my demo" to get these back.', '2026-01-01T09:00:00Z'),
  ('Fixture: buy milk', '2026-01-01T09:01:00Z'),
  ('Fixture: call the plumber', '2026-01-01T09:02:00Z');
