import type { Icon, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

/** The credential test's URL: the override when set (trailing slashes dropped), else Runware's API. */
const testUrl = '={{ ($credentials.baseUrl || "").trim() ? $credentials.baseUrl.trim().replace(/\\/+$/, "") : "https://api.runware.ai/v1" }}';

export class RunwareApi implements ICredentialType {
	name = 'runwareApi';

	displayName = 'Runware API';

	icon: Icon = { light: 'file:../nodes/AlibabaWan/alibabaWan.svg', dark: 'file:../nodes/AlibabaWan/alibabaWan.dark.svg' };

	documentationUrl = 'https://runware.ai/docs/platform/authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'A Runware API key (Runware dashboard › API Keys). The node sends it only to the URL below, as "Authorization: Bearer".',
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.runware.ai/v1',
			description:
				'Optional: send every request to this URL instead of https://api.runware.ai/v1 — for proxies or a local emulator. The API key is sent there.',
		},
	];

	/**
	 * Runware's free `authentication` task: it checks the key and creates no task (nothing billed). The key
	 * goes in the task, not in a header: Runware takes one way of authenticating per request, not both.
	 */
	test: ICredentialTestRequest = {
		request: {
			url: testUrl,
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: [{ taskType: 'authentication', apiKey: '={{ $credentials.apiKey.trim() }}' }],
			json: true,
		},
		rules: [
			{
				type: 'responseCode',
				properties: { value: 401, message: 'Runware did not accept the API key: copy it again from the Runware dashboard (API Keys).' },
			},
		],
	};
}
