export {
  OpenAITestServer, TEST_OPTIONS_HEADER,
  type OpenAITestServerOptions, type TestServerFault, type RecordedRequest, type TokenSource, type ScriptedTurn, type ScriptedToolCall, type TurnScript,
} from './OpenAITestServer.ts';
