"""The baseline the demo's model is measured against: character n-gram TF-IDF and a logistic
regression, trained on the Wisesight train split and scored on its valid split (the split the
demo's model never sees). Thai has no spaces between words, so character n-grams stand in for
words. Reproduce bench/recipe.md's comparison with:

    .venv/bin/python bench/tfidf-baseline.py [TRAIN] [VALID]

For the baseline as first measured and for its class-balanced variant (the distillation teacher,
distillWeight), prints wall time, accuracy, macro-F1 and per-class recall and F1, and how many of
the demo's showcase texts and hand-written obvious examples (test/fixtures/obvious-examples.jsonl)
it gets right, for comparison with scripts/eval-recipe.sh's count.
"""
import json
import sys
import time
from pathlib import Path

try:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, classification_report, f1_score
except ImportError:
    sys.exit("bench/tfidf-baseline.py needs scikit-learn, which slurm/requirements.txt installs: bash scripts/setup.sh")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "slurm"))
from mlc_train.teacher import TEACHER_CLASSIFIER, tfidf_features  # noqa: E402  the teacher is this baseline


def read(path: Path) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], [r["label"] for r in rows]


# The baseline as first measured, and the class-balanced one distillWeight's teacher is
# (slurm/mlc_train/teacher.py): two points on the accuracy / macro-F1 trade-off.
BASELINES = {
    "logistic regression (C 4)": {"C": 4.0},
    "class-balanced logistic regression (C 1, the distillation teacher)": TEACHER_CLASSIFIER,
}


def main() -> None:
    train_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data/wisesight/train.jsonl"
    valid_path = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "data/wisesight/valid.jsonl"
    train_x, train_y = read(train_path)
    valid_x, valid_y = read(valid_path)
    examples = [{"text": "ร้านนี้อร่อยมาก บริการดีสุดๆ", "label": "pos"}, {"text": "ส่งของช้ามาก แย่ที่สุด", "label": "neg"},
                {"text": "เปิดกี่โมงครับ", "label": "q"}]
    examples += [json.loads(line) for line in (ROOT / "test/fixtures/obvious-examples.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    for name, settings in BASELINES.items():
        started = time.perf_counter()
        vectorizer = tfidf_features()
        classifier = LogisticRegression(max_iter=2000, **settings)
        classifier.fit(vectorizer.fit_transform(train_x), train_y)
        predicted = classifier.predict(vectorizer.transform(valid_x))
        seconds = time.perf_counter() - started
        print(f"== char 1-3 gram TF-IDF + {name}: trained on {len(train_x)} rows in {seconds:.1f} s")
        print(f"valid ({len(valid_x)} rows): accuracy {accuracy_score(valid_y, predicted):.3f}, macro-F1 {f1_score(valid_y, predicted, average='macro'):.3f}")
        print(classification_report(valid_y, predicted, digits=3))
        guesses = classifier.predict(vectorizer.transform([e["text"] for e in examples]))
        for e, guess in zip(examples, guesses):
            print(f"{'✓' if guess == e['label'] else '✗'} {e['label']:4} → {guess:4} {e['text']}")
        print(f"showcase and obvious examples: {sum(g == e['label'] for e, g in zip(examples, guesses))}/{len(examples)} right\n")


if __name__ == "__main__":
    main()
