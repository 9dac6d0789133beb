#!/usr/bin/python3
"""Public tables, converted as a user would, trained with nabla (defaults, and tuned flags) and with scikit-learn's
MLPClassifier / MLPRegressor on the same split (issue 19's "Checked by").

The tables come from Debian packages, so nothing is downloaded: scikit-learn's bundled sets (iris, wine, breast
cancer, diabetes with targets 25-346, Boston housing), palmerpenguins' penguins.csv (text columns, NA gaps; species
and body mass), and statsmodels' "fair" (affairs, a skewed regression). Each is split 80/20 with
sklearn.model_selection.train_test_split (seed 0, stratified for classes) into DIR/<name>/train.csv and test.csv;
nabla reads that folder, scikit-learn the same rows (its pipeline: SimpleImputer + StandardScaler + OneHotEncoder,
the target standardized for regression, as nabla does by default).

Run: /usr/bin/python3 bench/tables.py [--only NAME] [--keep DIR]   (installs python3-sklearn, python3-pandas,
r-cran-palmerpenguins, python3-statsmodels if missing; ./nabla builds itself). Prints one table (markdown).
"""
import argparse, gzip, json, os, subprocess, sys, tempfile, time

_need = [p for p in ("python3-sklearn", "python3-pandas", "r-cran-palmerpenguins", "python3-statsmodels")
         if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
if _need:
    print("installing", " ".join(_need), file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *_need], check=True, stdout=subprocess.DEVNULL)

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NABLA = os.path.join(ROOT, "nabla")
SKDATA = "/usr/lib/python3/dist-packages/sklearn/datasets/data"


def sk_frame(loader, target):
    b = loader()
    df = pd.DataFrame(b.data, columns=[str(c) for c in b.feature_names])
    df[target] = [b.target_names[t] for t in b.target] if hasattr(b, "target_names") and target == "class" else b.target
    return df


def tables():
    """(name, frame, label column, task) for each public table."""
    yield "iris", sk_frame(datasets.load_iris, "class"), "class", "classification"
    yield "wine", sk_frame(datasets.load_wine, "class"), "class", "classification"
    yield "breast-cancer", sk_frame(datasets.load_breast_cancer, "class"), "class", "classification"
    penguins = pd.read_csv("/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv")
    yield "penguins", penguins, "species", "classification"
    yield "diabetes", sk_frame(lambda: datasets.load_diabetes(scaled=False), "progression"), "progression", "regression"
    boston = pd.read_csv(os.path.join(SKDATA, "boston_house_prices.csv"), skiprows=1)
    yield "boston", boston, "MEDV", "regression"
    yield "penguins-mass", penguins.dropna(subset=["body_mass_g"]), "body_mass_g", "regression"
    fair = pd.read_csv("/usr/lib/python3/dist-packages/statsmodels/datasets/fair/fair.csv")
    yield "fair", fair, "affairs", "regression"


def nabla(*args):
    out = subprocess.run([NABLA, *args], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip().splitlines()[-1]
    return json.loads(out.stdout.strip().splitlines()[-1]), None


def sklearn_score(train, test, label, task, hidden, max_iter=200):
    x_train, x_test = train.drop(columns=[label]), test.drop(columns=[label])
    text = [c for c in x_train.columns if x_train[c].dtype == object]
    numeric = [c for c in x_train.columns if c not in text]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), text)])
    if task == "classification":
        model = make_pipeline(pre, MLPClassifier(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=0))
        model.fit(x_train, train[label])
        return 100 * accuracy_score(test[label], model.predict(x_test))
    model = make_pipeline(pre, TransformedTargetRegressor(MLPRegressor(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=0),
                                                          transformer=StandardScaler()))
    model.fit(x_train, train[label])
    return r2_score(test[label], model.predict(x_test))


def constant_score(train, test, label, task):
    if task == "classification":
        return 100 * (test[label] == train[label].mode()[0]).mean()
    return r2_score(test[label], np.full(len(test), train[label].mean()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only")
    ap.add_argument("--keep")
    ap.add_argument("--tuned", default="--activation relu --hidden 64 --epochs 300",
                    help="the tuned nabla flags (the same width for scikit-learn)")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="nabla-tables-")
    rows = []
    for name, df, label, task in tables():
        if args.only and name != args.only:
            continue
        folder = os.path.join(work, name)
        os.makedirs(folder, exist_ok=True)
        strat = df[label] if task == "classification" else None
        train, test = train_test_split(df, test_size=0.2, random_state=0, stratify=strat)
        train.to_csv(os.path.join(folder, "train.csv"), index=False)
        test.to_csv(os.path.join(folder, "test.csv"), index=False)
        df.to_csv(os.path.join(work, name + ".csv"), index=False)
        common = ["--data", folder, "--label-column", label, "--json", "--device", "cpu"]
        if task == "regression":
            common += ["--task", "regression"]
        key = "test_accuracy" if task == "classification" else "test_r2"
        started = time.time()
        default, err1 = nabla("train", *common)
        seconds = time.time() - started
        tuned, err2 = nabla("train", *common, *args.tuned.split())
        hidden = tuple(int(h) for h in args.tuned.split("--hidden ")[1].split()[0].split(",")) if "--hidden" in args.tuned else (100,)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter: the defaults are what is measured
            sk_default = sklearn_score(train, test, label, task, (100,))
            sk = sklearn_score(train, test, label, task, hidden)
        const = constant_score(train, test, label, task)
        fmt = (lambda v: f"{v:.1f} %") if task == "classification" else (lambda v: f"{v:.3f}")
        rows.append((name, task, f"{len(train)}/{len(test)}", fmt(const),
                     fmt(default[key]) if default else f"error: {err1}", f"{seconds:.1f} s",
                     fmt(tuned[key]) if tuned else f"error: {err2}", fmt(sk_default), fmt(sk)))
    print(f"| table | task | train/test rows | constant predictor | nabla defaults | (whole process) | nabla `{args.tuned}` | scikit-learn MLP defaults (100 relu, adam, 200 epochs) | scikit-learn, hidden {','.join(map(str, hidden))} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nfolders and one-file CSVs in {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
