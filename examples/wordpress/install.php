<?php
/* examples/wordpress: installs the site at image build time (admin account, fixtures), so a demo starts ready. */
$_SERVER['HTTP_HOST'] = 'localhost';
define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$result = wp_install('Demo Shop Blog', 'demo', 'demo@example.org', false, '', 'demo-password');
if (is_wp_error($result)) { fwrite(STDERR, $result->get_error_message() . "\n"); exit(1); }
update_option('permalink_structure', '');
/* The demo admin writes in a plain text box (no rich editor): simple for visitors and for browser tests. */
update_user_meta(1, 'rich_editing', 'false');
update_user_meta(1, 'show_welcome_panel', 0);

/* Fixtures: what every visitor starts from (a reset brings exactly these back). */
$fixtures = [
  ['Welcome to the demo', 'This site is yours for a while: log in at /wp-admin with <b>demo</b> / <b>demo-password</b>.'],
  ['Spring collection is here', 'Fixture post: twelve new products, photographed in the studio.'],
  ['Shipping and returns', 'Fixture post: free shipping over 50 euros, returns within 30 days.'],
];
foreach ($fixtures as [$title, $content]) {
  $id = wp_insert_post(['post_title' => $title, 'post_content' => $content, 'post_status' => 'publish', 'post_author' => 1]);
  if (is_wp_error($id) || !$id) { fwrite(STDERR, "fixture '$title' failed\n"); exit(1); }
}
wp_delete_post(1, true); /* WordPress's own "Hello world!" is not a fixture */
echo "installed\n";
