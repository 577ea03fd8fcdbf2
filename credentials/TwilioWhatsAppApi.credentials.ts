import type {
  IAuthenticateGeneric,
  ICredentialTestRequest,
  ICredentialType,
  Icon,
  INodeProperties,
} from 'n8n-workflow';

/**
 * Twilio account for WhatsApp messages. Requests use HTTP Basic auth with either the Account SID and
 * Auth Token or an API Key SID and Secret (Twilio's recommendation for production). The Account SID is
 * needed in both cases: it is part of every request path. The base URL exists so tests and end-to-end
 * runs can point the node at a local stub of Twilio's API.
 */
export class TwilioWhatsAppApi implements ICredentialType {
  name = 'twilioWhatsAppApi';

  displayName = 'Twilio WhatsApp API';

  icon: Icon = {
    light: 'file:../nodes/WhatsAppAlert/whatsAppAlert.svg',
    dark: 'file:../nodes/WhatsAppAlert/whatsAppAlert.dark.svg',
  };

  documentationUrl = 'https://github.com/crypto-intel/n8n-nodes-crypto-intel#twilio-whatsapp-api-credential';

  properties: INodeProperties[] = [
    {
      displayName: 'Account SID',
      name: 'accountSid',
      type: 'string',
      required: true,
      default: '',
      placeholder: 'ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      description: 'Your Twilio Account SID (AC followed by 32 hex digits), from the Twilio Console',
    },
    {
      displayName: 'Authentication',
      name: 'authType',
      type: 'options',
      options: [
        {
          name: 'Auth Token',
          value: 'authToken',
        },
        {
          name: 'API Key',
          value: 'apiKey',
        },
      ],
      default: 'authToken',
      description:
        'Authenticate with the account Auth Token, or with an API Key (recommended for production: it can be revoked on its own)',
    },
    {
      displayName: 'Auth Token',
      name: 'authToken',
      type: 'string',
      typeOptions: { password: true },
      required: true,
      default: '',
      displayOptions: {
        show: {
          authType: ['authToken'],
        },
      },
    },
    {
      displayName: 'API Key SID',
      name: 'apiKeySid',
      type: 'string',
      required: true,
      default: '',
      placeholder: 'SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      displayOptions: {
        show: {
          authType: ['apiKey'],
        },
      },
    },
    {
      displayName: 'API Key Secret',
      name: 'apiKeySecret',
      type: 'string',
      typeOptions: { password: true },
      required: true,
      default: '',
      displayOptions: {
        show: {
          authType: ['apiKey'],
        },
      },
    },
    {
      displayName: 'WhatsApp Sender',
      name: 'whatsappFrom',
      type: 'string',
      default: '',
      placeholder: '+14155238886',
      description:
        'The WhatsApp-enabled sender number in E.164 format, with or without the "whatsapp:" prefix. May stay empty when a Messaging Service SID is set.',
    },
    {
      displayName: 'Messaging Service SID',
      name: 'messagingServiceSid',
      type: 'string',
      default: '',
      placeholder: 'MGxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      description:
        'Optional. Send through this Messaging Service (MG followed by 32 hex digits) instead of the sender number; Twilio then picks the sender from the service.',
    },
    {
      displayName: 'Base URL',
      name: 'baseUrl',
      type: 'string',
      default: 'https://api.twilio.com',
      description:
        "Twilio's REST API. Change it only to point at a proxy or a local test stub of the Messages API.",
    },
  ];

  // Values are trimmed, as the node trims the Account SID it puts in the path: a pasted SID or token
  // with a trailing space or new line would otherwise fail with 20003.
  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: {
      auth: {
        username:
          '={{String(($credentials.authType === "apiKey" ? $credentials.apiKeySid : $credentials.accountSid) || "").trim()}}',
        password:
          '={{String(($credentials.authType === "apiKey" ? $credentials.apiKeySecret : $credentials.authToken) || "").trim()}}',
      },
    },
  };

  // Listing one message works with the Auth Token and with standard API keys (which may not read the
  // Account resource itself), and fails when the key belongs to another account than the Account SID.
  // The base URL is the node's: trimmed, without trailing slashes, Twilio's own when empty.
  test: ICredentialTestRequest = {
    request: {
      baseURL:
        '={{String($credentials.baseUrl || "").trim().replace(/\\/+$/, "") || "https://api.twilio.com"}}',
      url: '=/2010-04-01/Accounts/{{String($credentials.accountSid || "").trim()}}/Messages.json',
      method: 'GET',
      qs: { PageSize: 1 },
    },
    rules: [
      {
        type: 'responseCode',
        properties: {
          value: 401,
          message:
            'Twilio rejected the credentials: check the Account SID with the Auth Token, or the API Key SID and Secret (the key must belong to this account)',
        },
      },
      {
        type: 'responseCode',
        properties: {
          value: 404,
          message: 'Twilio does not know this Account SID here: check the Account SID and the Base URL',
        },
      },
    ],
  };
}
