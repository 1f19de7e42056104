#!/usr/bin/env bash
# The figures of docs/comparisons.md and docs/inspect.md, as they were run (logs: benchmarks/results/*.log).
# Chains a and b run side by side; c and d were added after the first results (see docs/comparisons.md).
# Each command writes results.json and a PNG under benchmarks/results/<name>/ and prints its table;
# benchmarks/compare_table.py turns a results.json into the Markdown table of the docs.
#
#   bash benchmarks/comparisons.sh            # about 45 minutes on 2 CPU cores shared with other jobs
#   ONLY_E=1 bash benchmarks/comparisons.sh   # the later runs alone (about 2 hours on one core)
#   ONLY_F=1 bash benchmarks/comparisons.sh   # trained networks kept for their gradient flow, and the
#                                             # learning rate decayed (cosine) over the budget (2 chains,
#                                             # about 1 hour on 2 cores)
set -u
cd "$(dirname "$0")/.."
OUT=benchmarks/results
mkdir -p $OUT
run() {
    echo "== $*"
    local start=$(date +%s)
    "$@"
    echo "-- exit $?, elapsed $(( $(date +%s) - start )) s"
}
COMMON="--batch-size 32 --threads 1"
chain_a() {
    # gradient flow at initialisation (adding problem, T=200), and an exploding gradient with and without clipping
    # (its output of the run reported is in comparisons.log)
    [ -n "${SKIP_GRADIENTS:-}" ] || run python benchmarks/gradient_flow.py --out $OUT/gradient_flow
    # sequential digits, row by row (T=8, F=8): the whole family
    run recurra compare --task digits_rows --cells rnn,lstm,gru,indrnn,mingru,minlstm,esn,mlp --seeds 3 \
        --budget-steps 1000 --params 5000 $COMMON --out $OUT/digits_rows
    # adding problem, T=200, a time budget: the whole family
    run recurra compare --task adding --length 200 --cells rnn,lstm,gru,indrnn,mingru,minlstm,esn,mlp --seeds 2 \
        --budget-seconds 20 --params 5000 $COMMON --out $OUT/adding200_family
    # adding problem, T=500: IndRNN against LSTM under one step budget
    run recurra compare --task adding --length 500 --cells lstm,indrnn --seeds 1 \
        --budget-steps 1000 --params 2000 $COMMON --out $OUT/adding500
}
chain_b() {
    # adding problem, T=200, a step budget: the simple RNN against the gated ones
    run recurra compare --task adding --length 200 --cells rnn,lstm,gru,mlp --seeds 2 \
        --budget-steps 2000 --params 5000 $COMMON --out $OUT/adding200_steps
}
chain_c() {
    # sequential digits again, LSTM and GRU with three times the steps
    run recurra compare --task digits_rows --cells lstm,gru --seeds 3 \
        --budget-steps 3000 --params 5000 $COMMON --out $OUT/digits_rows_3000
}
chain_d() {
    # adding problem, T=200, the step budget with a ten times larger learning rate
    # (stopped by SIGTERM during the GRU runs for lack of machine time: rnn and lstm are in chain_d.log)
    run recurra compare --task adding --length 200 --cells rnn,lstm,gru --seeds 2 \
        --budget-steps 2000 --lr 0.01 --params 5000 $COMMON --out $OUT/adding200_lr1e-2
}
chain_e() {
    # a later session, on an otherwise idle machine: the adding problem with four times the steps and
    # parameters (T=200), then T=500 with IndRNN as Li et al. run it (two layers) against the LSTM
    # (two layers, and one); the logs are next to the results (<name>.log)
    run recurra compare --task adding --length 200 --cells lstm,gru,rnn --seeds 2 \
        --budget-steps 8000 --params 20000 $COMMON --out $OUT/adding200_8000
    run recurra compare --task adding --length 500 --cells indrnn --layers 2 --seeds 2 \
        --budget-steps 4000 --params 20000 $COMMON --out $OUT/adding500_indrnn2
    run recurra compare --task adding --length 500 --cells lstm --layers 2 --seeds 1 \
        --budget-steps 4000 --params 20000 $COMMON --out $OUT/adding500_lstm2
    run recurra compare --task adding --length 500 --cells lstm --seeds 1 \
        --budget-steps 4000 --params 20000 $COMMON --out $OUT/adding500_lstm1
    run python -c "import torch; torch.set_num_threads(1); from recurra.compare import compare; \
compare('adding', cells='lstm', length=500, seeds=[1], params=20000, budget_steps=4000, batch_size=32, \
out='$OUT/adding500_lstm1_seed1', progress=print)"
    run recurra compare --task adding --length 1000 --cells indrnn --layers 2 --seeds 1 \
        --budget-steps 6000 --params 20000 $COMMON --out $OUT/adding1000_indrnn2
    run recurra compare --task adding --length 200 --cells rnn,lstm,gru,indrnn,mingru,minlstm,esn,mlp --seeds 2 \
        --budget-seconds 20 --params 5000 $COMMON --out $OUT/adding200_family_idle
}
chain_f1() {
    # the adding problem at T=200 as in chain_e (seed 0), the trained networks kept: their gradient flow
    # (benchmarks/gradient_flow.py --trained) next to the same networks at initialisation
    run recurra compare --task adding --length 200 --cells lstm,rnn --seeds 1 \
        --budget-steps 8000 --params 20000 $COMMON --save-models --out $OUT/adding200_8000_models
    run python benchmarks/gradient_flow.py --trained $OUT/adding200_8000_models --out $OUT/gradient_flow_trained
    # the learning rate decayed to 0 over the budget (the same for every contender): T=500
    run recurra compare --task adding --length 500 --cells lstm --seeds 1 --lr-schedule cosine \
        --budget-steps 4000 --params 20000 $COMMON --out $OUT/adding500_lstm1_cosine
    run recurra compare --task adding --length 500 --cells indrnn --layers 2 --seeds 2 --lr-schedule cosine \
        --budget-steps 4000 --params 20000 $COMMON --out $OUT/adding500_indrnn2_cosine
}
chain_f3() {
    # the same with seed 1 (started while f1 and f2 ran: three runs on two cores; it ran as
    # compare('adding', cells='lstm,rnn', length=200, seeds=[1], ...) in Python, before --first-seed)
    run recurra compare --task adding --length 200 --cells lstm,rnn --seeds 1 --first-seed 1 \
        --budget-steps 8000 --params 20000 $COMMON --save-models --out $OUT/adding200_8000_models_seed1
    run python benchmarks/gradient_flow.py --trained $OUT/adding200_8000_models_seed1 --out $OUT/gradient_flow_trained_seed1
}
chain_f2() {
    # the learning rate decayed to 0 over the budget: IndRNN at T=1000
    run recurra compare --task adding --length 1000 --cells indrnn --layers 2 --seeds 2 --lr-schedule cosine \
        --budget-steps 6000 --params 20000 $COMMON --out $OUT/adding1000_indrnn2_cosine
    # then T=2000 (started by hand once the two above had finished)
    run recurra compare --task adding --length 2000 --cells indrnn --layers 2 --seeds 1 --lr-schedule cosine \
        --budget-steps 6000 --params 20000 $COMMON --out $OUT/adding2000_indrnn2_cosine
}
if [ -n "${ONLY_E:-}" ]; then chain_e; exit; fi
if [ -n "${ONLY_F:-}" ]; then
    chain_f1 > $OUT/chain_f1.log 2>&1 &
    chain_f2 > $OUT/chain_f2.log 2>&1 &
    chain_f3 > $OUT/chain_f3.log 2>&1 &
    wait
    exit
fi
{ chain_a > $OUT/chain_a.log 2>&1; chain_c > $OUT/chain_c.log 2>&1; } &
chain_b > $OUT/chain_b.log 2>&1 &
chain_d > $OUT/chain_d.log 2>&1 &
wait
