// ACME HTTP-01 answers: the key authorization of each challenge an order of ours put up, by its token, until the
// order took it down. Only these are answered: nobody can make the controller vouch for a name it did not order.
export class Http01Challenges {
  private readonly pending = new Map<string, string>();

  present(token: string, keyAuthorization: string): void {
    this.pending.set(token, keyAuthorization);
  }

  cleanup(token: string): void {
    this.pending.delete(token);
  }

  answer(token: string): string | undefined {
    return this.pending.get(token);
  }
}
