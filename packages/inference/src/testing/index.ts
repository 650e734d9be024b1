export {
  OpenAITestServer, TEST_OPTIONS_HEADER,
  type OpenAITestServerOptions, type TestServerFault, type RecordedRequest, type TokenSource,
} from './OpenAITestServer.ts';
