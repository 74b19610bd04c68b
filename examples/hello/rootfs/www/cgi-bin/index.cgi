#!/bin/sh
# The guestbook page: GET shows the entries, POST adds one. State lives in /data, private to this demo.
book=/data/guestbook.txt

html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
url_decode() { sed -e 's/+/ /g' -e 's/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g' | xargs -0 printf '%b'; }

if [ "$REQUEST_METHOD" = "POST" ]; then
  body=$(head -c "${CONTENT_LENGTH:-0}")
  message=$(printf '%s' "$body" | sed -n 's/^.*message=\([^&]*\).*$/\1/p' | url_decode | tr -d '\r\n' | head -c 200)
  if [ -n "$message" ]; then printf '%s\n' "$message" >> "$book"; fi
  printf 'Status: 303 See Other\r\nLocation: /\r\n\r\n'
  exit 0
fi

count=$(wc -l < "$book" | tr -d ' ')
printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
cat <<HTML
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hello guestbook</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
li{padding:.25rem 0;border-bottom:1px solid #ddd}input,button{font:inherit;padding:.4rem}</style></head>
<body><main>
<h1>Hello guestbook</h1>
<p>This copy is yours alone: <strong id="count">$count</strong> entr$( [ "$count" = 1 ] && echo y || echo ies) so far.</p>
<form method="post" action="/"><label for="message">Your message</label>
<input id="message" name="message" maxlength="200" required> <button type="submit">Sign</button></form>
<ul id="entries">
HTML
html_escape < "$book" | while IFS= read -r line; do printf '<li>%s</li>\n' "$line"; done
printf '</ul></main></body></html>\n'
