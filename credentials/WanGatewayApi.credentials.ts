import type { IAuthenticateGeneric, Icon, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import {
	DEFAULT_REQUEST_TIMEOUT_SECONDS,
	requestTimeoutRange,
} from '../nodes/AlibabaWan/services/gateway/settings';

/**
 * An OpenAI-style gateway that resells Wan 2.7 (seed 002, GATEWAY_API.md): its base URL, key and the few
 * details where gateways differ, each defaulting to the seed's behaviour. The Test button lists the
 * gateway's models (`GET {base}/models`), which creates nothing billable.
 */
export class WanGatewayApi implements ICredentialType {
	name = 'wanGatewayApi';

	// n8n's lint wants credential names in title case: "OpenAI-Compatible".
	displayName = 'Wan Gateway (OpenAI-Compatible) API';

	icon: Icon = { light: 'file:../nodes/AlibabaWan/alibabaWan.svg', dark: 'file:../nodes/AlibabaWan/alibabaWan.dark.svg' };

	documentationUrl = 'https://github.com/n8n-nodes-alibaba-wan/n8n-nodes-alibaba-wan#openai-compatible-gateways';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://gateway.example.com/v1',
			description: 'The gateway\'s API base, usually ending in /v1. Images are requested at {Base URL}/images/generations.',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'The gateway\'s key, sent as "Authorization: Bearer …" to the Base URL only',
		},
		{
			displayName: 'Image Field',
			name: 'imageField',
			type: 'options',
			default: 'image',
			options: [
				{ name: 'Image — One as Text, Several as a List', value: 'image', description: 'As documented for Wan 2.7 gateways (seed 002)' },
				{ name: 'Image — Always a List', value: 'imageArray' },
				{ name: 'Images — Always a List', value: 'images', description: 'Modelverse, new-api and similar gateways' },
			],
			description: 'How this gateway takes input images: gateways differ in the field\'s name and shape',
		},
		{
			displayName: 'Size Format',
			name: 'sizeStyle',
			type: 'options',
			default: 'WxH',
			options: [
				{ name: '1536x1024', value: 'WxH', description: 'As documented for Wan 2.7 gateways (seed 002)' },
				{ name: '1536*1024', value: 'W*H', description: 'As Alibaba\'s own API writes it' },
			],
			description: 'How a custom size in pixels is written; the tiers 1K, 2K and 4K are sent as they are',
		},
		{
			displayName: 'Image Delivery',
			name: 'responseFormat',
			type: 'options',
			default: 'url',
			options: [
				{ name: 'URL (Downloaded by the Node)', value: 'url', description: 'The gateway\'s default; also the safest, as some gateways fail a Base64 answer after billing it' },
				{ name: 'Base64 in the Answer', value: 'b64_json', description: 'For gateways whose result URLs the n8n host cannot reach' },
			],
			description: 'Whether the gateway answers with result URLs or with the images themselves (response_format)',
		},
		{
			displayName: 'Request Timeout (Seconds)',
			name: 'requestTimeoutSeconds',
			type: 'number',
			typeOptions: { minValue: requestTimeoutRange.min, maxValue: requestTimeoutRange.max },
			default: DEFAULT_REQUEST_TIMEOUT_SECONDS,
			description:
				'How long one request may take: the answer waits for the images. After a timeout the images may still have been generated and billed, and the request is never sent again.',
		},
		{
			displayName: 'Model ID for Wan 2.7 Image',
			name: 'modelIdImage',
			type: 'string',
			default: 'wan2.7-image',
			description: 'The gateway\'s name for this model (gateways rename models)',
		},
		{
			displayName: 'Model ID for Wan 2.7 Image Pro',
			name: 'modelIdImagePro',
			type: 'string',
			default: 'wan2.7-image-pro',
			description: 'The gateway\'s name for this model (gateways rename models)',
		},
		{
			displayName: 'Path',
			name: 'path',
			type: 'string',
			default: '/images/generations',
			description: 'Where image requests go, after the Base URL',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{ $credentials.apiKey.trim() }}',
			},
		},
	};

	/** Lists the gateway's models: read-only, never generates (or bills) an image. */
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{ ($credentials.baseUrl || "").trim().replace(/\\/+$/, "") }}',
			url: '/models',
			method: 'GET',
		},
		rules: [
			{
				type: 'responseCode',
				properties: { value: 401, message: 'The gateway refused the API key: check that it was copied in full and belongs to this Base URL.' },
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message:
						'Cannot verify: this gateway has no GET /models route (or the Base URL does not end where its API starts, usually /v1). This does not mean the key is wrong — run the node once to check it.',
				},
			},
		],
	};
}
