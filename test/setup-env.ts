// Every test talks to 127.0.0.1 only: fake credentials, a fixed region and no instance metadata,
// so the AWS SDK can never reach out to the network on its own.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
delete process.env.AWS_PROFILE;
delete process.env.AWS_SESSION_TOKEN;
for (const key of Object.keys(process.env)) {
  if (key.startsWith('AWS_ENDPOINT_URL')) delete process.env[key];
}
