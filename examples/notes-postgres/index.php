<?php
/* examples/notes-postgres: a small notes board on PostgreSQL; its state (the notes) is what a rewind brings back. */
$db = pg_connect('host=/run/postgresql dbname=notes user=notes');
if (!$db) { http_response_code(503); exit("the database is not answering\n"); }
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
  $text = trim((string)($_POST['text'] ?? ''));
  if ($text === '' || strlen($text) > 500) { http_response_code(400); exit("a note is 1 to 500 characters\n"); }
  // A note that was not saved must not look saved: the visitor (and a test) would lose it without a word.
  if (!@pg_query_params($db, 'INSERT INTO notes (text) VALUES ($1)', [$text])) { http_response_code(500); exit('the note was not saved: ' . pg_last_error($db) . "\n"); }
  header('Location: /', true, 303);
  exit;
}
if (($_SERVER['REQUEST_URI'] ?? '/') === '/notes.json') {
  header('Content-Type: application/json');
  echo json_encode(pg_fetch_all(pg_query($db, 'SELECT id, text FROM notes ORDER BY id')) ?: []);
  exit;
}
$notes = pg_fetch_all(pg_query($db, 'SELECT id, text, created_at FROM notes ORDER BY id DESC')) ?: [];
?><!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Notes</title></head>
<body><h1>Notes</h1>
<form method="post"><input name="text" maxlength="500" required><button>Add note</button></form>
<ul><?php foreach ($notes as $note): ?><li><?= htmlspecialchars($note['text']) ?></li><?php endforeach ?></ul>
</body></html>
