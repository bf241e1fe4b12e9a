/**
 * The loss-plateau rule that switches the warm start of multi-tile residual learning
 * (docs/science.md §8.11, as in the authors' released code): called once per epoch with the epoch's
 * mean training loss. For the first four switches the rule is aggressive (the loss rose by more
 * than 1e-4); after that it is mild (at least 2 of the last 5 epoch-to-epoch changes did not
 * drop the loss by 0.01). The history is cleared after every switch.
 */
export class LossPlateau {
  private history: number[] = [];
  private switches = 0;

  /** Records one epoch's loss; true when the rule fires (a switch happens). */
  observe(loss: number): boolean {
    const h = this.history;
    h.push(loss);
    let fire: boolean;
    if (this.switches < 4) fire = h.length >= 2 && h[h.length - 1] - h[h.length - 2] > 1e-4;
    else {
      let flat = 0;
      for (let t = Math.max(1, h.length - 5); t < h.length; t++) if (h[t] - h[t - 1] >= -0.01) flat++;
      fire = h.length >= 6 && flat >= 2;
    }
    if (fire) {
      this.switches++;
      this.history = [];
    }
    return fire;
  }
}
