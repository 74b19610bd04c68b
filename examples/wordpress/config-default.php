<?php
/* examples/wordpress: the site's config for every host (each demo has its own random one). */
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', 'wordpress');
/* localhost is the socket: MariaDB listens on no TCP port inside the demo. */
define('DB_HOST', 'localhost');
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');

/* The public address is whatever nginx says it is: a demo's host is random and known only per request. */
$demo_scheme = (($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https') ? 'https' : 'http';
$demo_host = preg_replace('/[^A-Za-z0-9.\-]/', '', $_SERVER['HTTP_X_FORWARDED_HOST'] ?? ($_SERVER['HTTP_HOST'] ?? 'localhost'));
$demo_port = preg_replace('/\D/', '', $_SERVER['HTTP_X_FORWARDED_PORT'] ?? '');
if ($demo_port !== '' && !str_contains($demo_host, ':') && !in_array($demo_port, ['80', '443'], true)) $demo_host .= ":$demo_port";
/* WordPress builds "the current URL" from HTTP_HOST: it must carry the public port too. */
$_SERVER['HTTP_HOST'] = $demo_host;
if ($demo_scheme === 'https') $_SERVER['HTTPS'] = 'on';
define('WP_HOME', "$demo_scheme://$demo_host");
define('WP_SITEURL', "$demo_scheme://$demo_host");

/* A demo never talks to the internet (updates, pingbacks) and cannot install code. */
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('DISALLOW_FILE_MODS', true);
define('AUTOMATIC_UPDATER_DISABLED', true);

/* Salts differ per container (written by the entrypoint), so a cookie of one demo means nothing to another. */
if (file_exists('/run/wordpress/salts.php')) require '/run/wordpress/salts.php';
