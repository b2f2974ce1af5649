package org.factrl.model.io;

/** What a writer does when the file it is asked to write already exists. */
public enum IfExists {
  /** Refuse (the default everywhere): a checkpoint is never replaced by accident. */
  FAIL,
  /** Replace it atomically: readers see the old file or the new one, never a mix. */
  REPLACE
}
