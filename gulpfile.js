/** Copies what tsc/esbuild do not emit: the SVG icons and the node codex files, paths kept. */
const { src, dest } = require('gulp');

function buildIcons() {
	return src(['nodes/**/*.svg', 'nodes/**/*.node.json', 'credentials/**/*.svg'], { base: '.' }).pipe(dest('dist'));
}

exports['build:icons'] = buildIcons;
exports.default = buildIcons;
