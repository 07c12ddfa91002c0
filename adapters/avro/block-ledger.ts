// Shared by framing (which enters each block it passes on) and by codecs and projection (which name it
// in errors).

/** File offsets of the blocks handed to avsc, so codec and record failures can name their block. */
export class BlockLedger {
  private blocks: { offset: number; count: number }[] = [];
  private codecIndex = 0;
  private recordIndex = 0;

  add(offset: number, count: number): void {
    this.blocks.push({ offset, count });
  }

  /** avsc decompresses every block exactly once, in file order. */
  nextCodecOffset(): number | null {
    return this.blocks[this.codecIndex++]?.offset ?? null;
  }

  /** avsc reads records block after block, skipping empty blocks. */
  nextRecordBlock(): { offset: number; count: number } | null {
    let block = this.blocks[this.recordIndex++];
    while (block !== undefined && block.count === 0) block = this.blocks[this.recordIndex++];
    if (this.recordIndex > 256) {
      this.blocks = this.blocks.slice(this.recordIndex);
      this.codecIndex -= this.recordIndex;
      this.recordIndex = 0;
    }
    return block ?? null;
  }
}
