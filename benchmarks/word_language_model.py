"""PyTorch's own ``word_language_model`` (pytorch/examples), run as it is with ``torch.nn``'s recurrent
modules and then with ``recurra.nn``'s in their place: test perplexity, time per batch, the whole-model
``torch.save`` / ``torch.load`` and the ONNX export the script does.

The script is not part of recurra: give a checkout of https://github.com/pytorch/examples with
``--examples``. Its ``word_language_model`` folder is copied twice into a temporary directory; in the
second copy ``model.py`` gets ``import recurra.nn`` and its two constructions of the recurrent module
(``getattr(nn, rnn_type)(...)`` and ``nn.RNN(...)``) read ``recurra.nn`` instead of ``nn`` — nothing else
changes. The corpus is recurra's Spanish proverbs (``src/recurra/text/corpora/refranes.txt``) split
80/10/10 into ``train.txt`` / ``valid.txt`` / ``test.txt`` (the script's wikitext-2 layout). Both copies
run ``main.py`` with the same arguments and seed, on the CPU; the printed table has each one's test
perplexity, median ms/batch over the script's own reports, and whether the ONNX export succeeded.

    python benchmarks/word_language_model.py --examples /path/to/pytorch-examples
    python benchmarks/word_language_model.py --examples ... --models LSTM GRU RNN_TANH --epochs 3 --threads 2
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "src" / "recurra" / "text" / "corpora" / "refranes.txt"


def write_corpus(folder: Path) -> None:
    lines = [line for line in CORPUS.read_text(encoding="utf8").splitlines() if line.strip()]
    a, b = int(0.8 * len(lines)), int(0.9 * len(lines))
    folder.mkdir(parents=True)
    for name, part in (("train", lines[:a]), ("valid", lines[a:b]), ("test", lines[b:])):
        (folder / f"{name}.txt").write_text("\n".join(part) + "\n", encoding="utf8")


def with_recurra(model_py: Path) -> None:
    """``model.py`` with its recurrent modules taken from ``recurra.nn`` (the only change)."""
    text = model_py.read_text()
    changed = text.replace("getattr(nn, rnn_type)(", "getattr(recurra.nn, rnn_type)(").replace("= nn.RNN(", "= recurra.nn.RNN(")
    if changed.count("recurra.nn") != 2:
        raise SystemExit(f"{model_py}: expected getattr(nn, rnn_type)(...) and nn.RNN(...) to replace; the example has changed")
    model_py.write_text("import recurra.nn\n" + changed)


def run(folder: Path, data: Path, model: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, "main.py", "--data", str(data), "--model", model, "--epochs", str(args.epochs),
               "--emsize", str(args.size), "--nhid", str(args.size), "--log-interval", "10", "--save", "model.pt",
               "--onnx-export", "model.onnx", "--lr", str(args.lr)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env)
    out = done.stdout + done.stderr
    ms = [float(m) for m in re.findall(r"ms/batch\s+([\d.]+)", out)]
    ppl = re.search(r"End of training \| test loss\s+[\d.]+ \| test ppl\s+([\d.]+)", out)
    onnx_ok = (folder / "model.onnx").exists() and done.returncode == 0
    if ppl is None:
        tail = "\n".join(out.splitlines()[-15:])
        return {"ppl": float("nan"), "ms": float("nan"), "onnx": False, "error": tail}
    return {"ppl": float(ppl.group(1)), "ms": statistics.median(ms[1:] or ms), "onnx": onnx_ok, "error": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=Path, required=True, help="a checkout of pytorch/examples")
    parser.add_argument("--models", nargs="+", default=["LSTM", "GRU", "RNN_TANH"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--size", type=int, default=200, help="--emsize and --nhid")
    parser.add_argument("--lr", type=float, default=20.0, help="the script's initial learning rate (its default: 20)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    source = args.examples / "word_language_model"
    if not (source / "main.py").exists():
        raise SystemExit(f"no word_language_model/main.py under {args.examples}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_corpus(tmp / "data")
        for name in ("torch", "recurra"):
            shutil.copytree(source, tmp / name)
        with_recurra(tmp / "recurra" / "model.py")
        print(f"{'model':<9} {'torch.nn ppl':>12} {'recurra.nn ppl':>14} {'diff %':>7} {'torch ms/batch':>14} "
              f"{'recurra ms/batch':>16} {'speed-up':>8} {'onnx':>10}")  # fmt: skip
        for model in args.models:
            theirs, ours = run(tmp / "torch", tmp / "data", model, args), run(tmp / "recurra", tmp / "data", model, args)
            for who, r in (("torch.nn", theirs), ("recurra.nn", ours)):
                if r["error"]:
                    print(f"{model} with {who} failed:\n{r['error']}")
            diff = 100 * (ours["ppl"] - theirs["ppl"]) / theirs["ppl"]
            onnx = f"{'ok' if theirs['onnx'] else 'no'}/{'ok' if ours['onnx'] else 'no'}"
            print(f"{model:<9} {theirs['ppl']:>12.2f} {ours['ppl']:>14.2f} {diff:>+7.2f} {theirs['ms']:>14.1f} "
                  f"{ours['ms']:>16.1f} {theirs['ms'] / ours['ms']:>8.2f} {onnx:>10}")  # fmt: skip


if __name__ == "__main__":
    main()
