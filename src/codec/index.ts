// Payload encryption: the AES-256-GCM codec for clients and workers, and the codec server for the UI and CLI.
export {
  AesGcmPayloadCodec,
  DEFAULT_CODEC_CORS_ORIGIN,
  DEFAULT_CODEC_SERVER_PORT,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  PayloadDecryptionError,
  codecDataConverter,
  encryptedFailureConverterPath,
  createPayloadCodec,
  loadCodecConfig,
  type CodecConfig,
  type CodecKey,
} from './aes-gcm-codec.ts';
export { startCodecServer, type CodecServerOptions, type RunningCodecServer } from './server.ts';
export { runCodecServerCli, type CodecCliIo } from './cli.ts';
