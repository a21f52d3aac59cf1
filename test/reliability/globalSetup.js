/** Clears the reliability ledger at the start of a jest run (see ledger.ts). */
const fs = require('node:fs');
const path = require('node:path');

module.exports = async () => {
	fs.rmSync(path.join(__dirname, '.results'), { recursive: true, force: true });
};
