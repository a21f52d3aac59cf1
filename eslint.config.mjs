// n8n's community lint without the Cloud-only rules (see README "Lint"): the node bundles undici,
// whose proxy and timer support needs `process` and timers that the Cloud rules forbid.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default configWithoutCloudSupport;
