"""`ebnn search` on the Curie-class target: the searches of the results page.

::

    .venv/bin/python -m bench search            # runs the searches missing in build/bench/search
    .venv/bin/python -m bench search --quick    # 2 trials of 1 epoch each, into a scratch folder

Not part of ``python -m bench`` (all): the searches take many hours on a 2-core
machine (docs/results.md gives the total measured). Each search runs ``ebnn search`` with the
options in :data:`SEARCHES` into
``build/bench/search/NAME``; a folder that already holds a search is only re-rendered
(``ebnn search --report``; with ``--resume --cv K`` when its search cross-validates and
``--refit`` when it refits, which finishes the trials, folds and refits an interrupt left
undone), so an interrupted bench run goes on
where it stopped, and a search can be continued by hand with ``ebnn search -o DIR --resume``.

For each search the JSON records the command, the wall time it took (the time with at least one
trial, fold or refit in flight, from the study itself, so a search resumed later is not charged
for the pause), the trials, the Pareto set and the hand-made models of the same budget measured
by the search on the same validation images. The comparison with a hand-made model chooses
without the test set: among the Pareto models that are within the hand-made model's worst-case
cycles and peak SRAM, the most accurate one (cross-validated accuracy where ``--cv`` measured
it, else validation accuracy); it dominates when its test accuracy is at least the hand-made
model's and it is strictly better in one of accuracy, cycles or SRAM.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import common

SPACES = common.REPO / "examples" / "search"
OFFICIAL_MNIST = common.OFFICIAL_MNIST


@dataclass(frozen=True)
class Search:
    name: str
    space: str  # file in examples/search
    args: tuple[str, ...]  # budgets and data
    time: str  # --time
    handmade: str | None = None  # the hand-made model this budget must dominate
    goal_test: float | None = None  # a test accuracy the best must reach
    mnist: bool = True  # the official MNIST test set is the test split
    start: str | None = None  # a model config in examples/ the search begins from (--start)
    epochs: int | None = 60  # --epochs (60 as the hand-made models were trained); None: the space's
    cv: int = 3  # --cv: candidates re-ranked by cross-validation after the trials
    cv_folds: int = 4  # --cv-folds
    cv_race: bool = False  # --cv-race: the cv candidates race through the folds
    note: str | None = None  # what the page must say about how the search was set up
    teacher: str | None = None  # an earlier search whose chosen model teaches the candidates
    refit: bool = False  # --refit: its goal is judged on the chosen config trained on every image


SEARCHES = (
    Search("mnist-1k", "mnist.toml", ("--sram", "1k"), "25m", handmade="mnist-tiny"),
    Search("mnist-2k", "mnist.toml", ("--sram", "2k"), "75m", handmade="mnist"),
    Search("mnist-2k-start", "mnist-near.toml", ("--sram", "2k"), "45m", handmade="mnist",
           start="mnist/mnist.toml"),
    Search("mnist-15k", "mnist-15k.toml", ("--sram", "15k", "--max-ms", "50"), "75m",
           goal_test=0.986, start="search/starts/mnist-15k.toml", epochs=120,
           note="Not a clean estimate: the space's training recipe (120 epochs, rotations and "
                "zoom) and the start config (the first 15 KiB search's trial 29, which that "
                "search found after 55 min) were chosen from their **test** accuracy on one "
                "model (issue 14, session 9 note). The clean check is a cold search whose "
                "space leaves the recipe to the sampler: mnist-15k-cold. The model itself is "
                "no lucky draw: its config trained again on an AMD EPYC with seeds 0-3 (a copy "
                "of examples/search/starts/mnist-15k.toml with `seed` set, then `ebnn train`, "
                "`ebnn export` and `ebnn eval --data-dir ../shared/data/mnist`) tests at "
                "98.67%, 98.60%, 98.60% and 98.62%, and it lies in mnist-15k-cold's space."),
    Search("mnist-15k-cold-front", "mnist-15k-cold.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective"), "80m",
           goal_test=0.986, epochs=None,
           note="A cold search (no start config; the space draws the epochs, 60, 90 or 120, "
                "rotations of 0-15 degrees and zoom of 0-15% for each candidate) that "
                "optimises accuracy and cycles: TPE spread its trials along that front, almost "
                "all under 1.3 KiB of SRAM, and never tried the wide models the 15 KiB budget "
                "allows. (A first run with peak SRAM as a third objective did the same.) "
                "mnist-15k-cold asks for accuracy alone."),
    Search("mnist-15k-cold", "mnist-15k-cold.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective"),
           "80m", goal_test=0.986, epochs=None,
           note="A cold search for the most accurate model within 15 KiB and 50 ms: no start "
                "config, the space draws the training recipe (epochs 60, 90 or 120, rotations "
                "of 0-15 degrees, zoom of 0-15%), and accuracy is the only objective (SRAM, "
                "flash and 50 ms are constraints). Measured 2026-12-02: TPE settled early on 90 "
                "epochs (84 of its 90 trained candidates; 2 drew 120) and on conv, conv, "
                "linear shapes at its best (5 trained had three convs, best 98.2% val); every "
                "candidate needed under 2.1 KiB of SRAM (the bits are packed). Its three best on "
                "validation (99.0%, 98.8%, 98.8%) cross-validated at 97.8-98.2%: the chosen model "
                "tests at 98.15%, under the goal."),
    Search("mnist-15k-prune", "mnist-15k-cold.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4"), "80m", goal_test=0.986, epochs=None,
           note="mnist-15k-cold's search (cold, accuracy alone, 80 min) with --prune: a "
                "candidate whose validation accuracy (BNs calibrated) after a quarter or half of "
                "its epochs is below the median of the candidates before it there stops "
                "(docs/search.md), so the same time tries more shapes; batches of 4 on the 2 "
                "workers, so a worker whose candidate stopped takes the next one (the batch "
                "differs from mnist-15k-cold's, 2, so its proposals differ for that reason too). "
                "Measured 2026-12-03: 108 candidates trained in 80 min (51 of them stopped "
                "early) against mnist-15k-cold's 90, best validation 99.0% as there; its three "
                "best cross-validated at 98.1-98.2% and the chosen model tests at 98.18%, under "
                "the goal. No better model was there to choose: none of the 57 candidates that "
                "finished reaches 98.6% on the test set (best 98.38%; recorded, never used to "
                "choose), most drew 90 epochs. (The survivors' calibrated scores at a quarter "
                "and half had rank correlations of 0.23 and 0.40 with their final accuracy.)"),
    Search("mnist-2k-taught", "mnist-near.toml", ("--sram", "2k"), "45m", handmade="mnist",
           start="mnist/mnist.toml", teacher="mnist-15k-cold",
           note="Every candidate learns from the cold 15 KiB search's chosen model as well as "
                "from the labels ([train] teacher, docs/config.md; the space's copy with the "
                "teacher is in build/bench/search); with --cv each fold has its own teacher, "
                "trained from that model's config without the fold. The wall time is this "
                "search's, plus the teacher's search (its own row) after the +."),
    Search("mnist-2k-recipe", "mnist-near-recipe.toml",
           ("--sram", "2k", "--prune", "--batch", "4"), "45m", handmade="mnist",
           start="mnist/mnist.toml", epochs=None,
           note="mnist-2k-start's neighbourhood of the hand-made model with the training recipe "
                "left to the sampler as in mnist-15k-cold (epochs 60, 90 or 120, rotations of "
                "0-15 degrees, zoom of 0-15%, learning rate and init drawn), with --prune and "
                "batches of 4; it starts from the hand-made config and recipe. Measured "
                "2026-12-03: 96 candidates in its 45 min of trials (53 stopped early). Its "
                "trial 0, the "
                "hand-made config and recipe trained on this machine (an AMD EPYC; the shipped "
                "artifact was trained on another CPU, and training is bit-reproducible only on "
                "one: docs/config.md), tests at 97.71% (96.40% validation), and the same config "
                "with seeds 0-5 tests at 97.37-97.80% (mean 97.66%; a copy of the config with "
                "`seed` set, then `ebnn train`, `ebnn export` and `ebnn eval --data-dir "
                "../shared/data/mnist`): the shipped 98.02% is above all six. The chosen "
                "model (conv 7 4x4/2, conv 64 3x3 pool 2; 90 epochs, "
                "rotations to 6.8 degrees) tests at 97.88% in 153,397 cycles: better than every "
                "retraining of the hand-made config here in about 30% fewer cycles, but under the "
                "shipped 98.02%, so the goal is not met. The most accurate cross-validated "
                "(t46, 98.36% test) needs 233,054 cycles, over the hand-made's 218,692; two "
                "finished candidates within its cycles and SRAM test at exactly 98.02% (t8, "
                "t30; recorded, never used to choose)."),
    Search("mnist-15k-multi", "mnist-15k-cold.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--multivariate"), "55m", goal_test=0.986, epochs=None,
           note="mnist-15k-prune's search (cold, accuracy alone, --prune, batches of 4) with "
                "--multivariate, 55 min of trials instead of 80: TPE with group=True also models "
                "a later block's conditional parameters jointly (mnist-15k-prune already had "
                "Optuna's one-objective TPE, which models the parameters every trial has "
                "jointly: docs/search.md). Measured 2026-12-03: 78 candidates, 34 trained to "
                "the end, 26 stopped early, 18 rejected; 27 of the 34 were conv, conv, linear "
                "and one had three convs. The chosen model (conv 8 5x5/2 p1, conv 96 3x3 pool "
                "2, linear 256; 98.60% validation, cv 98.50%) tests at 98.20%, under the goal; "
                "no finished candidate reaches it (best 98.45%; recorded, never used to "
                "choose). Yet mnist-15k's three-conv model lies in this space and tests at "
                "98.60-98.67% over four seeds: the searches fail to find it, and would rank it "
                "no better than second (its cv in mnist-15k, 98.44%, is under this choice's "
                "98.50%: four folds of 500 images do not separate them)."),
    Search("mnist-15k-shapes", "mnist-15k-shapes.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4"), "80m", goal_test=0.986, epochs=None, cv=6,
           note="mnist-15k-prune's search (cold, accuracy alone, --prune, batches of 4, 80 min) "
                "in the same space with the kind sequence drawn as one parameter, `shape` "
                "(examples/search/mnist-15k-shapes.toml), which Optuna's one-objective TPE "
                "models jointly with the first layer and the recipe; and six candidates "
                "cross-validated instead of three (decided before any of its test accuracies "
                "was seen: over a hundred 500-image validation scores, the best are inflated, "
                "and mnist-15k's three-conv model scored 98.40% there, under the cold "
                "searches' chosen 98.6-98.8%). Measured 2026-12-03: 69 candidates in 80 min "
                "(41 trained to the end, 15 stopped early, 13 rejected): 99 min with the first "
                "three candidates' folds, 14 min more for the other three's. TPE still settled "
                "on conv, conv, linear (26 of the 41); three convs were drawn three times, "
                "always with a stride-1 first layer (one over the flash, one over 50 ms). The "
                "chosen model (conv 24 4x4 pool 2, conv 128 2x2 p1 pool 2, linear 256, 90 "
                "epochs; 98.60% validation, cv 98.62%, the best cv of any cold search) tests at "
                "98.49%, the best cold result so far (98.15-98.20% before) but under the goal; "
                "the best finished candidate tests at 98.51% (recorded, never used to choose). "
                "The three candidates added to the cross-validation did not change the choice."),
    Search("mnist-15k-explore", "mnist-15k-shapes.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--startup", "32"), "75m", goal_test=0.986, epochs=None,
           cv=6,
           note="mnist-15k-shapes's search (cold, the shape drawn as one parameter, accuracy "
                "alone, --prune, batches of 4, six candidates cross-validated on 4 folds) with "
                "--startup 32: TPE proposes its first 32 finished trials at random instead of "
                "10, so more of the space is trained before it settles (75 min of trials, "
                "decided before the search ran, so that it ends within 2 hours with its folds). "
                "Why: every cold 15 KiB search settled on conv, conv, linear, and none trained "
                "three convs with a stride-2 first layer, the kind of model mnist-15k's start "
                "is (98.60-98.67% on the test set over four seeds), which lies in this space. "
                "Measured 2026-12-03: 72 candidates in 75 min (38 trained to the end, 14 "
                "stopped early, 21 rejected, 20 of them before training), 121 min with the "
                "folds: over the 2 hours. Three convs with a stride-2 first layer were drawn "
                "seven times (four in the first 32 trials): one trained to the end (t16: conv "
                "32 5x5/2 p1, conv 64 2x2 p1 pool 2, conv 192 3x3; 120 epochs), four were over "
                "50 ms and two stopped early; TPE settled on conv, conv, linear (23 of the 38). "
                "Cross-validation chose t16 (98.40% validation, cv 98.66%, the best cv of any "
                "cold search; the next best 98.24%): it tests at 98.59%, one of the 10,000 "
                "test images short of the goal, in 48.1 ms and 1,604 B. No finished candidate "
                "reaches 98.6% on the test set (t16 is the best; recorded, never used to "
                "choose); validation and test ranked the 38 alike more than in the earlier "
                "searches (Spearman 0.72)."),
    Search("mnist-15k-explore-s1", "mnist-15k-shapes.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--startup", "32", "--seed", "1"), "60m", goal_test=0.986,
           epochs=None, cv=6, refit=True,
           note="mnist-15k-explore's search again with the sampler seeded 1 instead of 0 (the "
                "same validation split: the space's training seed is unchanged) and 60 min of "
                "trials instead of 75, decided before the search ran: mnist-15k-explore's folds "
                "took 46 min and its whole search 121, over the 2 hours; 60 + 46 leaves room "
                "for trials in flight at the limit and for slower folds. Why: one search is one "
                "draw of its random start; explore's 32 random trials trained one three-conv "
                "model with a stride-2 first layer and it came one test image short of the "
                "goal, so this asks whether another draw, within the 2 hours, finds and "
                "chooses one that reaches it. --refit was added to this registration seven "
                "minutes into the run (commit ccaf4f2, after cdda89c made it), before any "
                "candidate's test accuracy or the cross-validation was seen: the model handed "
                "over, on which the goal is judged, is the chosen config trained again on all "
                "5,000 labelled images (run by the bench's `--resume --cv 6 --cv-folds 4 "
                "--refit` after the search, its time counted); the chosen candidate's own test "
                "accuracy is reported beside it. Measured 2026-12-03: 52 candidates in 60 min "
                "(30 trained to the end, 10 stopped early, 13 rejected, 12 before training), "
                "104 min in all with the folds and the refit (6 min 41 s; the search ran "
                "while a few niced test runs shared the 2 cores). TPE settled on conv, conv, "
                "linear again (16 of the 29 finished within the budget); three convs with a "
                "stride-2 first layer were drawn three times: one trained (t7, 94.6% "
                "validation), one stopped early, one not a model. Cross-validation chose t45 "
                "(conv 32 5x5 p1 pool 2, conv 64 3x3 pool 2, linear 64; 120 epochs; 98.60% "
                "validation, cv 98.56%): 98.50% on the test set, 98.51% refit on the 5,000 "
                "images, in 35.9 ms and 1,356 B: the goal is not met. No finished candidate "
                "reaches 98.6% on the test set (the best, t44, 98.57%; recorded, never used to "
                "choose); validation and test ranked the 29 alike (Spearman 0.84)."),
    Search("mnist-15k-stratified", "mnist-15k-shapes.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--startup", "25", "--stratify", "--seed", "2"), "60m",
           goal_test=0.986, epochs=None, cv=6, refit=True,
           note="mnist-15k-explore-s1's search (the same space, budget, --prune, batches of 4, "
                "60 min of trials, cv 6 x 4, --refit) with --stratify, decided and committed "
                "before it ran (2026-12-03 19:18): the first 25 candidates that fit are dealt "
                "over the five shapes, five each, a rejected one drawn again in its shape. "
                "Why: in explore and explore-s1 most three-conv draws were over 50 ms and the "
                "shape trained 3 and 4 times, while TPE settled on conv, conv, linear; the "
                "three-conv candidates that trained well had the best cv of the cold searches "
                "(t16 98.66%). --startup 25 rather than 32: five per shape, leaving about a "
                "third of the trials to TPE. Sampler seed 2, used by no earlier search (the "
                "validation split and folds are the space's, unchanged). The goal is judged on "
                "the chosen config refit on all 5,000 labelled images. Measured 2026-12-03: "
                "101 candidates in 60 min (51 trained to the end, 41 stopped early, 10 "
                "rejected, 9 before training), 76 min in all with the folds and the refit. "
                "The dealing did what it says and ended at trial 33: each shape trained or "
                "was stopped five times (three convs after five rejections and one not a "
                "model), but none of the five three-conv candidates (all with a stride-2 first "
                "layer) reached 97.8% validation (best 97.6%; two stopped early); TPE then "
                "settled on conv, conv, linear with a stride-2 first layer (45 of the 67 "
                "trials after the dealing), small and fast models (most 300,000 to 500,000 "
                "cycles). Cross-validation chose t76 (conv 16 5x5/2 pool 2, conv 96 2x2, "
                "linear 256; 90 epochs; 98.40% validation, cv 98.28%): 97.96% on the test set, "
                "97.81% refit on the 5,000 images, in 15.0 ms and 1,112 B: the goal is not "
                "met, further from it than explore and explore-s1. No finished candidate "
                "reaches 98.6% on the test set (the best, t22, 98.27%; recorded, never used to "
                "choose); validation and test ranked the 50 alike only weakly (Spearman "
                "0.25)."),
    Search("mnist-15k-three", "mnist-15k-three.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--seed", "3"), "50m", goal_test=0.986, epochs=None,
           cv=4, refit=True,
           note="mnist-15k-shapes's search (cold, accuracy alone, --prune, batches of 4, cv on 4 "
                "folds, --refit) in its space narrowed to one shape: three convs with a "
                "stride-2 first layer, 120 epochs (examples/search/mnist-15k-three.toml), "
                "decided and committed before it ran (2026-12-04 04:39), with 50 min of trials "
                "and four candidates cross-validated, so that trials, folds (three-conv models "
                "train for about 5 min a fold) and the refit end within 2 hours. Why: of every "
                "cold search's candidates, the best cross-validated (mnist-15k-explore's t16, "
                "cv 98.66%) is such a model, and TPE, free to draw the shape, settled on conv, "
                "conv, linear in all four searches that tried. Not blind: the hand-made "
                "mnist-15k start is such a model too, and its test accuracy (98.60-98.67% over "
                "four seeds) and t16's (98.59%) were known when this space was written. Sampler "
                "seed 3, used by no earlier search (the validation split and folds are the "
                "space's, unchanged). The goal is judged on the chosen config refit on all "
                "5,000 labelled images. Measured 2026-12-04: 60 candidates in 50 min (19 "
                "trained to the end within the budget, 28 stopped early, 13 rejected, 12 "
                "before training), 72 min in all with the folds and the refit; training a "
                "candidate took 100-440 s. Most finished candidates were conv 24 5x5/2 "
                "pool 2, conv 32 2x2, conv 48-96 3x3. Cross-validation of the four best on "
                "validation chose t37 (conv 32 5x5/2 pool 2, conv 32 2x2, conv 96 3x3 pool 2; "
                "98.40% validation, cv 98.28%; the others 97.68-98.12%): 98.12% on the test "
                "set, 98.22% refit on the 5,000 images, in 18.1 ms and 1,480 B: the goal is "
                "not met. No finished candidate reaches 98.6% on the test set (the best, t7, "
                "98.38% in 48.9 ms; one trained and then measured over the cycles, t34 at "
                "50.6 ms, 98.62%; recorded, never used to choose); validation and test ranked "
                "the 19 alike only moderately (Spearman 0.52). Narrowing the shape did not "
                "lift the search: on these 4,500 training images, three-conv candidates "
                "cross-validate no better than conv, conv, linear ones."),
    Search("mnist-15k-big", "mnist-15k-big.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--seed", "4"), "45m", goal_test=0.986, epochs=None,
           cv=3, refit=True,
           note="mnist-15k-three's search (cold, accuracy alone, --prune, batches of 4, "
                "--refit) in the space of the models that spend most of the 50 ms: conv, "
                "conv, then conv or linear, a first layer of 24 or 32 filters with stride 2 "
                "and no pool, wide later layers, 120 epochs (examples/search/mnist-15k-big.toml), "
                "decided and committed before it ran (2026-12-04 10:08), with 45 min of trials "
                "and three candidates cross-validated, as such models train for 4-7 min (a "
                "fold too), so that trials, folds and the refit end within 2 hours. Why: over "
                "the cold searches' chosen models, cross-validated accuracy rose with cycles "
                "(97.74-98.28% under 700,000 cycles but mnist-15k-multi's 98.50%; 98.56-98.66% "
                "for the three over 1,100,000), while their validation accuracy (98.4-98.8%) "
                "could not tell them apart, so the searches chose small models as often as "
                "big ones. Not blind: the hand-made mnist-15k start is such a model, and its "
                "test accuracy and the earlier choices' were known when this space was "
                "written. Sampler seed 4, used by no earlier search. The goal is judged on the "
                "chosen config refit on all 5,000 labelled images. Measured 2026-12-04: 32 "
                "candidates in 45 min (16 trained to the end within the budget, 8 stopped "
                "early, 8 rejected before training, most over the flash), 69 min in all with "
                "the folds and the refit; training a candidate took 150-380 s. 15 of the 16 "
                "finished were conv 24 or 32 5x5/2, conv 48-128 2x2 or 3x3 pool 2, linear 128 "
                "or 256, at 528,000 to 1,581,000 cycles (16-49 ms: pools kept many well under "
                "the 50 ms this space was meant to fill). Cross-validation of the three best "
                "on validation chose t29 (conv 24 5x5/2, conv 96 2x2 pool 2, linear 256; "
                "99.00% validation, cv 98.42%; the others 98.22% and 98.28%): 98.40% on the "
                "test set, 98.30% refit on the 5,000 images, in 22.1 ms and 1,148 B: the goal "
                "is not met. The space did lift the finished candidates (test 98.16-98.74%, "
                "median 98.37%, against mnist-15k-three's 97.33-98.38%, median 98.11%), and "
                "four of the 16 test at 98.57% or more (the best, t11, 98.74% in 39.1 ms; "
                "recorded, never used to choose), but validation ranked them against the test "
                "set (Spearman -0.30): the three it sent to cross-validation test at "
                "98.16-98.40%, none among the six best. On these 500 validation images the "
                "search cannot find its best models; cross-validating every finished one (4 "
                "folds of 150-380 s each) would not fit in 2 hours on 2 cores."),
    Search("mnist-15k-val", "mnist-15k-val.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--seed", "5"), "45m", goal_test=0.986, epochs=None,
           cv=6, refit=True,
           note="mnist-15k-big's search (cold, accuracy alone, --prune, batches of 4, 45 min of "
                "trials, --refit) in its space with 1,500 validation images instead of 500 "
                "(val_fraction 0.3: a candidate trains on 3,500 images; "
                "examples/search/mnist-15k-val.toml), and the six best on them cross-validated "
                "instead of three, decided and committed before it ran (2026-12-04 13:31), so "
                "that trials (faster on fewer images), folds (about 3 min each, two at a time) "
                "and the refit end within 2 hours. Why: mnist-15k-big's finished candidates "
                "tested at 98.16-98.74% (four of 16 at 98.57% or more), but its 500 validation "
                "images, where one error is 0.2%, about the spread between them, ranked them "
                "against the test set (Spearman -0.30), so none of the three it cross-validated "
                "was among its best. Not blind: the split size and the six were chosen after "
                "seeing that disagreement. Sampler seed 5, used by no earlier search. The goal "
                "is judged on the chosen config refit on all 5,000 labelled images. Measured "
                "2026-12-04 13:31-15:14 on this 2-core machine (the project's tests ran beside "
                "it at nice 19 for about 23 of its 45 min of trials): 38 candidates in 45 min (12 "
                "trained to the end within the budget, 15 stopped early, 11 rejected, 10 "
                "before training), 102 min in all with the 24 folds and the refit. The finished "
                "candidates were conv 24 or 32 4x4 or 5x5/2, conv 48-128 3x3 pool 2, linear "
                "128 or 256 but one, at 691,000 to 1,347,000 cycles; trained on 3,500 images "
                "they test at 98.27-98.68% (median 98.48%). Cross-validation of the six best "
                "on validation chose t35 (conv 24 4x4/2 p1, conv 96 3x3 pool 2, linear 128; "
                "98.87% validation, cv 98.58%, the others 98.12-98.52%): 98.54% on the test "
                "set, but 98.28% refit on the 5,000 images, in 38.2 ms and 1,460 B: the goal "
                "is not met. 1,500 validation images ranked the 12 little better than 500 did "
                "in mnist-15k-big (Spearman val/test 0.25; cv/test over the six 0.31): the "
                "spread between these candidates (0.4 pt on the test set) is about what one "
                "config's accuracy moves between trainings (t35's refit moved 0.26 pt), so "
                "neither a larger split nor folds of six can rank them."),
    Search("mnist-15k-race", "mnist-15k-big.toml",
           ("--sram", "15k", "--max-ms", "50", "--no-sram-objective", "--no-cycles-objective",
            "--prune", "--batch", "4", "--seed", "6"), "40m", goal_test=0.986, epochs=None,
           cv=16, cv_race=True, refit=True,
           note="mnist-15k-big's search (cold, accuracy alone, its space with 500 validation "
                "images, --prune, batches of 4, --refit) with 40 min of trials and up to 16 of "
                "the best on validation, i.e. about every candidate trained to the end, raced "
                "through 4 folds (--cv 16 --cv-race: all run fold 1, the better half by mean "
                "accuracy so far each next fold, 16, 8, 4 and 2 of them: 30 trainings instead "
                "of 64), decided and committed before it ran (2026-12-04 16:10), so that trials, "
                "folds and the refit end within 2 hours. Why: in mnist-15k-big and "
                "mnist-15k-val the validation split ranked the finished candidates unlike the "
                "test set (Spearman -0.30 and 0.25), and only the 3 or 6 best on it were "
                "cross-validated; the race judges every finished candidate on folds. Not "
                "blind: chosen after seeing those searches' test accuracies and that one "
                "config's accuracy moves by up to 0.3 pt between trainings (issue 14, session "
                "24 note). Sampler seed 6, used by no earlier search. The goal is judged on the "
                "chosen config refit on all 5,000 labelled images. Measured 2026-12-04 "
                "16:11-17:59 on this 2-core machine (two unit-test runs of about 2 min at nice "
                "19 beside its first 25 min): 14 candidates in 40 min (8 trained to the end, 6 "
                "rejected before training, none stopped early; a candidate took 8-20 min, two "
                "at a time), so the race had 8, not 16: 8, 4, 2 and 2 ran folds 1-4, 16 "
                "trainings in 59 min, then 8 min of refit; 108 min in all. The race cut the "
                "best on validation (t6, 98.80%) on its fold 1 (97.92%) and chose t4 (conv 24 "
                "5x5/2, conv 96 2x2 pool 2, linear 128, rotations to 8.9 degrees, zoom to 15%; "
                "98.40% validation, cv 98.54% against the other finalist t13's 98.22%): 98.36% "
                "on the test set trained on 4,500 images, 98.59% refit on the 5,000, in 16.8 ms "
                "and 1,148 B: the goal is not met, by one of the 10,000 test images. The 8 "
                "finished candidates test at 98.19-98.74% (t6 the best; recorded, never used "
                "to choose); neither validation nor fold 1 ranked them like the test set "
                "(Spearman 0.10 and 0.08)."),
    Search("mnist-2k-within", "mnist-near-recipe.toml",
           ("--sram", "1128", "--max-ms", "6.834125", "--no-sram-objective",
            "--no-cycles-objective", "--prune", "--batch", "4"), "60m", handmade="mnist",
           start="mnist/mnist.toml", epochs=None, cv=6,
           note="mnist-2k-recipe's space and start with the hand-made model's own measured "
                "budget as hard limits and accuracy the only objective: peak SRAM 1,128 B "
                "(under 2 KiB) and 6.834125 ms at 32 MHz, i.e. its 218,692 cycles (the same on "
                "every validation image, so also its worst case). mnist-2k-recipe, "
                "with cycles as a second objective, spread its trials along the accuracy-cycles "
                "front and trained most of its best candidates just over the hand-made's cycles "
                "(220-233k); here every trained candidate is one that could dominate, and the "
                "six best on validation are cross-validated (decided, with the 60 min, before "
                "the search ran). It ran with the first form of the probe that bounds a "
                "candidate's cycles from below (docs/search.md; each trained candidate took 4% "
                "or more cycles than its probe; the probe before rejected its trial 0, the "
                "hand-made config, at 223,870 cycles). Measured 2026-12-03: 108 candidates in "
                "60 min (79 min with the folds): 45 trained to the end within the budget, 58 "
                "stopped early, 5 trained and then measured over the cycles (none rejected before "
                "training); 29 of the 45 were conv 6 4x4/2, conv 96 3x3. The chosen model "
                "(conv 6 4x4/2, conv 96 3x3 pool 2, 90 epochs, rotations to 6.0 degrees, zoom "
                "to 14%; 98.80% validation, cv 98.14%) tests at 98.13% in 215,998 cycles and "
                "1,112 B: it dominates the hand-made model (98.02%, 218,692 cycles, 1,128 B), "
                "by 11 of the 10,000 test images. 17 of the 45 finished candidates test at "
                "98.02% or more (best 98.26%; recorded, never used to choose); validation and "
                "test ranked them alike only weakly (Spearman 0.24)."),
    Search("digits-2k", "digits.toml", ("--dataset", "digits", "--sram", "2k"), "10m",
           handmade="digits", mnist=False),
)
QUICK = ("--trials", "2", "--epochs", "1", "--train-images", "300")


def command(s: Search, directory: Path, quick: bool) -> list[str]:
    ebnn = str(Path(sys.executable).with_name("ebnn"))
    space = SPACES / s.space if s.teacher is None else taught_space(s, directory)
    cmd = [ebnn, "search", str(space), "--target", "curie", *s.args]
    if s.start is not None:
        cmd += ["--start", str(common.REPO / "examples" / s.start)]
    if s.mnist and (OFFICIAL_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        cmd += ["--test-data-dir", str(OFFICIAL_MNIST)]
    if quick:
        cmd += list(QUICK)
    else:
        cmd += ["--time", s.time, *(["--epochs", str(s.epochs)] if s.epochs else [])]
    return [*cmd, *cv_args(s, quick), *(["--refit"] if s.refit else []), "-o", str(directory)]


def taught_space(s: Search, directory: Path) -> Path:
    """Where the search's space with its teacher is: ``s.space`` with ``[space.train] teacher``,
    the checkpoint of the model the teacher search chose (see :func:`collect`), beside
    ``directory``. Written by :func:`write_taught_space` before the search runs."""
    return directory.parent / f"{s.name}.toml"


def teacher_pt(s: Search, directory: Path) -> Path | None:
    """The checkpoint of the model the teacher search chose (as :func:`collect` chooses), in
    its trial folder (``pareto/`` is re-made on every re-render); None when it has none."""
    assert s.teacher is not None
    teacher_dir = directory.parent / s.teacher
    try:
        front = json.loads((teacher_dir / "pareto.json").read_text())
    except (OSError, ValueError):
        return None
    best = choice(front)
    if best is None:
        return None
    pt = (teacher_dir / "trials" / f"{best['trial']:05d}" / "model.pt").resolve()
    return pt if pt.is_file() else None


def write_taught_space(s: Search, directory: Path) -> None:
    pt = teacher_pt(s, directory)
    assert pt is not None
    text = (SPACES / s.space).read_text()
    if "[space.train]\n" not in text:
        raise ValueError(f"{s.space} has no [space.train] table for the teacher")
    taught_space(s, directory).write_text(text.replace(
        "[space.train]\n", f"[space.train]\nteacher = {json.dumps(str(pt))}\n", 1))


def cv_args(s: Search, quick: bool) -> list[str]:
    if not s.cv:
        return []
    race = ["--cv-race"] if s.cv_race else []
    return ["--cv", "1", "--cv-folds", "2", *race] if quick else [
        "--cv", str(s.cv), "--cv-folds", str(s.cv_folds), *race]


def ranked(e: dict[str, Any]) -> tuple[int, float]:
    """Higher is more accurate: cross-validated models first, by that accuracy, then the others
    by validation accuracy (``ebnn.search.outputs.rank``)."""
    from ebnn.search.outputs import rank

    tier, acc = rank(e)
    return -tier, -acc


def choice(front: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The search's choice among its Pareto models, without the test set: the most accurate
    (:func:`ranked`), fewest cycles among equals; None for an empty set."""
    return max(front, key=lambda e: (*ranked(e), -e["cycles"])) if front else None


def shown(cmd: list[str]) -> str:
    """The command as the page shows it (paths relative to the repository)."""
    shared = common.REPO.parent / "shared"

    def path(a: str) -> str:
        p = Path(a)
        if p.is_absolute() and p.is_relative_to(shared):
            return str(Path("..") / p.relative_to(common.REPO.parent))
        return str(common.rel(a))

    return " ".join([".venv/bin/ebnn"] + [path(a) if "/" in a else a for a in cmd[1:]])


def dominating(front: list[dict[str, Any]], hand: dict[str, Any]) -> dict[str, Any] | None:
    """The Pareto model chosen against ``hand`` without the test set, and whether it dominates."""
    within = [e for e in front
              if e["cycles"] <= hand["cycles"] and e["sram_peak"] <= hand["sram_peak"]]
    if not within:
        return {"model": None, "dominates": False}
    best = max(within, key=lambda e: (*ranked(e), -e["cycles"], -e["sram_peak"]))
    acc, hand_acc = best.get("test_accuracy"), hand.get("test_accuracy")
    if acc is None or hand_acc is None:
        acc, hand_acc = best["val_accuracy"], hand["val_accuracy"]
    strictly = (acc > hand_acc or best["cycles"] < hand["cycles"]
                or best["sram_peak"] < hand["sram_peak"])
    return {"model": best["name"], "dominates": bool(acc >= hand_acc and strictly),
            "test_accuracy": best.get("test_accuracy"), "val_accuracy": best["val_accuracy"],
            "cv_accuracy": best.get("cv_accuracy"),
            "cycles": best["cycles"], "sram_peak": best["sram_peak"], "ms": best["ms"]}


def collect(s: Search, directory: Path, cmd: list[str], ran: bool,
            seconds: float | None) -> dict[str, Any]:
    settings = json.loads((directory / "search.json").read_text())
    front = json.loads((directory / "pareto.json").read_text())
    hand = json.loads((directory / "handmade.json").read_text())
    totals = next(line for line in (directory / "pareto.md").read_text().splitlines()
                  if re.match(r"\d+ trials: ", line))
    best = choice(front)
    entry: dict[str, Any] = {
        "name": s.name, "command": shown(cmd), "ran_now": ran, "command_seconds": seconds,
        "date": time.strftime("%Y-%m-%d %H:%M %z"),
        "directory": common.rel(directory), "settings": {k: settings.get(k) for k in (
            "target", "sram", "flash", "max_cycles", "clock_hz", "epochs", "dataset", "start",
            "batch", "prune", "multivariate", "startup", "stratify")},
        "totals": totals, "search_seconds": _study_seconds(directory),
        "pareto": [{k: e.get(k) for k in ("name", "val_accuracy", "cv_accuracy",
                                          "test_accuracy", "sram_peak", "flash", "cycles",
                                          "cycles_median", "ms", "config", "refit")}
                   for e in front],
        "cv": ({"candidates": s.cv, "folds": s.cv_folds, **({"race": True} if s.cv_race else {})}
               if s.cv else None),
        "best": None if best is None else best["name"],
        "handmade": hand, "goal_test": s.goal_test, "note": s.note,
        "plot": common.rel(directory / "pareto.png"),
    }
    if s.teacher is not None:  # its candidates learnt from that search's choice: its time too
        entry["teacher_search"] = {"name": s.teacher, "search_seconds": _study_seconds(
            directory.parent / s.teacher)}
    if s.handmade is not None:
        h = next((h for h in hand if h["name"] == s.handmade), None)
        entry["versus"] = None if h is None else {"handmade": s.handmade,
                                                  **(dominating(front, h) or {})}
    if s.goal_test is not None:
        top = max((e.get("test_accuracy") or 0.0 for e in front), default=0.0)
        chosen = best.get("test_accuracy") if best else None
        refit = shipped_refit(s, best)
        if refit is not None:  # the model the search hands over: its config refit
            chosen = refit.get("test_accuracy")
        entry["goal"] = {"test_accuracy": s.goal_test, "chosen": chosen,
                         "chosen_refit": refit is not None,
                         "highest_in_pareto": top,
                         # registered with --refit, the goal is the refit's to meet
                         "met": (chosen is not None and chosen >= s.goal_test
                                 and (refit is not None or not s.refit))}
        if s.refit and refit is None:  # said on the page: which refit is missing, or why
            f = (best or {}).get("refit")
            entry["goal"]["refit_missing"] = ("no refit" if not f else
                                              f"{f['status']}: {f.get('reason', '')}")
    return entry


def shipped_refit(s: Search, best: dict[str, Any] | None) -> dict[str, Any] | None:
    """The chosen model's refit when the search was registered with ``--refit`` and its refit
    stayed within the budget: then it is the model the search hands over (decided before the
    search ran), and its test accuracy is the one the goal is judged on."""
    if not s.refit or best is None:
        return None
    refit = best.get("refit")
    return refit if refit and refit.get("status") == "ok" else None


def _study_seconds(directory: Path) -> float:
    """The time the search ran: with a trial, a fold of ``--cv`` or a refit in flight (a resumed
    search is not charged for the time between its runs), from the study itself (the figure
    ``pareto.md`` gives, ``ebnn.search.outputs.load_records``)."""
    import optuna

    from ebnn.search.outputs import load_records
    from ebnn.search.study import STUDY_NAME, storage_url

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=STUDY_NAME, storage=storage_url(directory))
    return round(load_records(study)[1].seconds, 1)


def main(quick: bool, out: Path, only: list[str] | None = None) -> int:
    con = common.console()
    base = common.BUILD / ("search-quick" if quick else "search")
    t0 = time.perf_counter()
    result: dict[str, Any] = common.result_header("search", quick)
    result["searches"] = []
    status = 0
    for s in SEARCHES:
        if only and s.name not in only:
            continue
        directory = base / s.name
        if (s.teacher is not None and not (directory / "study.db").is_file()
                and teacher_pt(s, directory) is None):
            con.print(f"[red]{s.name}: its teacher search {s.teacher} has not run or chose no "
                      f"model: python -m bench search --only {s.teacher}[/]")
            status = 1
            continue
        cmd = command(s, directory, quick)
        ran, seconds = False, None
        if quick and directory.exists():
            import shutil

            shutil.rmtree(directory)
        if (directory / "study.db").is_file():
            con.print(f"{s.name}: re-rendering the search in {common.rel(directory)}")
            again = (["-o", str(directory), "--resume", *cv_args(s, quick),
                      *(["--refit"] if s.refit else [])] if s.cv or s.refit
                     else ["--report", str(directory)])  # --resume --cv: the missing folds
            proc = subprocess.run([cmd[0], "search", *again])
        else:
            if s.teacher is not None:
                write_taught_space(s, directory)
            con.print(f"{s.name}: {shown(cmd)}")
            t1 = time.perf_counter()
            proc = subprocess.run(cmd)
            ran, seconds = True, round(time.perf_counter() - t1, 1)
        if proc.returncode != 0 or not (directory / "pareto.json").is_file():
            con.print(f"[red]{s.name}: ebnn search exited {proc.returncode}[/]")
            status = 1
            continue
        entry = collect(s, directory, cmd, ran, seconds)
        result["searches"].append(entry)
        v = entry.get("versus")
        if v:
            con.print(f"{s.name}: {v.get('model')} vs {v['handmade']}: "
                      f"{'dominates' if v['dominates'] else 'does not dominate'}")
        if not quick and ((v is not None and not v["dominates"])
                          or (entry.get("goal") and not entry["goal"]["met"])):
            status = 1
    if only:
        old = common.read_json(out / "search.json") or {}
        kept = [e for e in old.get("searches", []) if e["name"] not in only]
        order = [x.name for x in SEARCHES]
        result["searches"] = sorted(kept + result["searches"], key=lambda e: order.index(e["name"]))
    result["bench_seconds"] = round(time.perf_counter() - t0, 1)
    common.write_json(out / "search.json", result)
    return status


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv, out=common.RESULTS))
