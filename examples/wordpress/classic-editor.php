<?php
/* examples/wordpress: a must-use plugin. The classic editor: a demo visitor writes a post in a plain form, no block editor to learn. */
add_filter('use_block_editor_for_post', '__return_false');
add_filter('use_block_editor_for_post_type', '__return_false');
