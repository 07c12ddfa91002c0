// Opens a Currents object in S3 as a stream of engagement events. Reading and decoding are streamed. Like every
// adapter it speaks in domain errors: an S3 failure (before or during the download) is StoreUnavailableError,
// a file that cannot be decoded the reader's UnreadableFileError; the ingestion use case decides what each means.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EngagementEvent, EngagementKind } from '../../domain/currents';
import { StoreUnavailableError, UnreadableFileError } from '../../domain/errors';
import type { EventSource } from '../../domain/ingestion';
import { type CurrentsReadLimits, readCurrentsEvents } from '../avro/currents-reader';

export function s3EventSource(
  s3: S3Client,
  bucket: string,
  key: string,
  limits?: CurrentsReadLimits,
): EventSource {
  return async (kind: EngagementKind) => {
    let body: NodeJS.ReadableStream;
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!object.Body) throw new Error('empty body');
      body = object.Body as NodeJS.ReadableStream;
    } catch (error) {
      throw new StoreUnavailableError('currents object read', { cause: error });
    }
    return transientReadErrors(readCurrentsEvents(body, kind, limits));
  };
}

async function* transientReadErrors(events: AsyncIterable<EngagementEvent>): AsyncIterable<EngagementEvent> {
  try {
    yield* events;
  } catch (error) {
    if (error instanceof UnreadableFileError) throw error;
    throw new StoreUnavailableError('currents object stream', { cause: error });
  }
}
