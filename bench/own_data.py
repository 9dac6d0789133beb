#!/usr/bin/python3
"""Your own data, checked against PyTorch and scikit-learn on the same files (issue 13's "Checked by").

Makes, with a seeded generator, three data sets in a temporary folder:
  blobs   three Gaussian blobs far from [0, 255] (negative coordinates), string labels in the LAST column,
          a header and ';' as the delimiter;
  houses  a regression table: price = 3a - 2b + sin(c) + 10 and area = a*b, two numeric targets;
  bars    an image folder (train/ and test/, a sub-folder per class): light bars on black, vertical,
          horizontal or diagonal, 28x28 grayscale PNGs.
Each is trained through the nabla CLI (`train --json`, then `predict --json` for the regression) and with the
same model, optimizer, batch size, epochs and input scaling in PyTorch; scikit-learn's accuracy_score and
r2_score score both sets of predictions, and its MLPClassifier / MLPRegressor (adam, the same hidden layer) is a
third opinion. Exit status 1 when Nabla is more than 2 accuracy points or 0.02 of R^2 below PyTorch.

Run: /usr/bin/python3 bench/own_data.py   (installs Debian's python3-torch, python3-sklearn, python3-pil if missing; ./nabla builds itself)
"""
import json, math, os, random, subprocess, sys, tempfile

# What the comparison needs, from Debian's packages (as bench/compare.py installs its own).
_need = [p for p in ("python3-torch", "python3-sklearn", "python3-pil", "python3-numpy")
         if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
if _need:
    print("installing", " ".join(_need), file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", *_need], check=True, stdout=subprocess.DEVNULL)

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NABLA = os.path.join(ROOT, "nabla")
EPOCHS, BATCH, LR, HIDDEN = 20, 32, 0.01, 32


def nabla(*args):
    out = subprocess.run([NABLA, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"nabla {' '.join(args)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_blobs(path, n, rng):
    centers = [("setosa", (-50, 20, -30)), ("versicolor", (0, -40, 10)), ("virginica", (40, 30, -10))]
    with open(path, "w") as f:
        f.write("f1;f2;f3;species\n")
        for i in range(n):
            name, c = centers[i % 3]
            f.write(";".join(f"{v + 30 * rng.gauss(0, 1):.3f}" for v in c) + f";{name}\n")


def write_houses(path, n, rng):
    with open(path, "w") as f:
        f.write("a,b,c,price,area\n")
        for _ in range(n):
            a, b, c = (rng.uniform(-2, 2) for _ in range(3))
            f.write(f"{a:.4f},{b:.4f},{c:.4f},{3 * a - 2 * b + math.sin(c) + 10:.4f},{a * b:.4f}\n")


def write_bars(root, per_class, rng):
    for kind in ("vertical", "horizontal", "diagonal"):
        os.makedirs(os.path.join(root, kind), exist_ok=True)
        for k in range(per_class):
            img = np.zeros((28, 28), np.uint8)
            at, width = rng.randrange(3, 25), 1
            for t in range(28):
                for w in range(width):
                    y, x = {"vertical": (t, at + w - 1), "horizontal": (at + w - 1, t),
                            "diagonal": (t, (t + at + w) % 28)}[kind]
                    if 0 <= x < 28 and 0 <= y < 28:
                        img[y, x] = rng.randrange(150, 256)
            noise = np.array([[rng.randrange(0, 110) for _ in range(28)] for _ in range(28)], np.uint8)
            Image.fromarray(np.maximum(img, noise)).save(os.path.join(root, kind, f"{k}.png"))


def read_csv(path, delimiter, targets):
    lines = [l.strip().split(delimiter) for l in open(path) if l.strip()]
    header, rows = lines[0], lines[1:]
    at = [header.index(t) for t in targets]
    x = np.array([[float(r[j]) for j in range(len(header)) if j not in at] for r in rows], np.float32)
    y = [[r[j] for j in at] for r in rows]
    return x, y


def read_folder(root):
    classes = sorted(os.listdir(root))
    x, y = [], []
    for c, name in enumerate(classes):
        for file in sorted(os.listdir(os.path.join(root, name))):
            x.append(np.asarray(Image.open(os.path.join(root, name, file)).convert("L"), np.float32).reshape(-1) / 255)
            y.append(c)
    return np.array(x), np.array(y)


def torch_fit(x, y, outputs, regression, epochs=EPOCHS, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], HIDDEN), nn.Sigmoid(), nn.Linear(HIDDEN, outputs))
    loss_fn = nn.MSELoss() if regression else nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt = torch.tensor(x)
    yt = torch.tensor(y, dtype=torch.float32 if regression else torch.long)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=g).split(BATCH):
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()
    return model


def predict(model, x):
    with torch.no_grad():
        return model(torch.tensor(x)).numpy()


def standardize(train, *others):
    mean, std = train.mean(0), train.std(0)
    std[std == 0] = 1
    return [(a - mean) / std for a in (train, *others)]


def main():
    rng = random.Random(13)
    failures = []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Classification of a table: string labels, label last, ';', standardized.
        blobs = os.path.join(tmp, "blobs"); os.makedirs(blobs)
        write_blobs(os.path.join(blobs, "b_train.csv"), 600, rng)
        write_blobs(os.path.join(blobs, "b_test.csv"), 300, rng)
        ours = nabla("train", "--dataset", "csv", "--data", blobs, "--delimiter", ";", "--label-column", "species",
                     "--scale", "standardize", "--hidden", str(HIDDEN), "--epochs", str(EPOCHS), "--lr", str(LR),
                     "--activation", "sigmoid", "--tol", "0",  # the PyTorch model's, not the table defaults
                     "--batch-size", str(BATCH), "--device", "cpu", "--json", "-q")["test_accuracy"]
        xtr, ytr = read_csv(os.path.join(blobs, "b_train.csv"), ";", ["species"])
        xte, yte = read_csv(os.path.join(blobs, "b_test.csv"), ";", ["species"])
        names = sorted({l[0] for l in ytr})
        ytr = np.array([names.index(l[0]) for l in ytr]); yte = np.array([names.index(l[0]) for l in yte])
        xtr_s, xte_s = standardize(xtr, xte)
        theirs = 100 * accuracy_score(yte, predict(torch_fit(xtr_s, ytr, 3, False), xte_s).argmax(1))
        sk = 100 * accuracy_score(yte, MLPClassifier((HIDDEN,), activation="logistic", learning_rate_init=LR, batch_size=BATCH,
                                                     max_iter=EPOCHS, random_state=0).fit(xtr_s, ytr).predict(xte_s))
        rows.append(("blobs (csv, string labels last)", "accuracy %", ours, theirs, sk))
        if ours < theirs - 2: failures.append("blobs")

        # Regression with two targets.
        houses = os.path.join(tmp, "houses"); os.makedirs(houses)
        write_houses(os.path.join(houses, "h_train.csv"), 1000, rng)
        write_houses(os.path.join(houses, "h_test.csv"), 300, rng)
        model = os.path.join(tmp, "houses.safetensors")
        trained = nabla("train", "--task", "regression", "--dataset", "csv", "--data", houses, "--label-column", "price,area",
                        "--scale", "standardize", "--hidden", str(HIDDEN), "--epochs", str(EPOCHS * 2), "--lr", str(LR),
                        "--activation", "sigmoid", "--tol", "0", "--target-scale", "none",  # as the PyTorch reference trains
                        "--batch-size", str(BATCH), "--device", "cpu", "--save", model, "--json", "-q")
        xtr, ytr = read_csv(os.path.join(houses, "h_train.csv"), ",", ["price", "area"])
        xte, yte = read_csv(os.path.join(houses, "h_test.csv"), ",", ["price", "area"])
        ytr = np.array(ytr, np.float32); yte = np.array(yte, np.float32)
        predicted = nabla("predict", model, os.path.join(houses, "h_test.csv"), "--json")["predictions"]
        ours_pred = np.array([[p["values"]["price"], p["values"]["area"]] for p in predicted])
        ours = r2_score(yte, ours_pred)
        if abs(ours - trained["test_r2"]) > 1e-4:
            failures.append(f"houses: nabla's own R^2 {trained['test_r2']} differs from scikit-learn's {ours:.6f} on its predictions")
        xtr_s, xte_s = standardize(xtr, xte)
        theirs = r2_score(yte, predict(torch_fit(xtr_s, ytr, 2, True, epochs=2 * EPOCHS), xte_s))
        sk = r2_score(yte, MLPRegressor((HIDDEN,), activation="logistic", learning_rate_init=LR, batch_size=BATCH,
                                        max_iter=2 * EPOCHS, random_state=0).fit(xtr_s, ytr).predict(xte_s))
        rows.append(("houses (regression, 2 targets)", "R^2", ours, theirs, sk))
        if ours < theirs - 0.02: failures.append("houses")

        # An image folder.
        bars = os.path.join(tmp, "bars")
        write_bars(os.path.join(bars, "train"), 200, rng)
        write_bars(os.path.join(bars, "test"), 60, rng)
        ours = nabla("train", "--dataset", "folder", "--data", bars, "--hidden", str(HIDDEN), "--epochs", str(EPOCHS),
                     "--lr", str(LR), "--batch-size", str(BATCH), "--device", "cpu", "--json", "-q")["test_accuracy"]
        xtr, ytr = read_folder(os.path.join(bars, "train"))
        xte, yte = read_folder(os.path.join(bars, "test"))
        theirs = 100 * accuracy_score(yte, predict(torch_fit(xtr, ytr, 3, False), xte).argmax(1))
        sk = 100 * accuracy_score(yte, MLPClassifier((HIDDEN,), activation="logistic", learning_rate_init=LR, batch_size=BATCH,
                                                     max_iter=EPOCHS, random_state=0).fit(xtr, ytr).predict(xte))
        rows.append(("bars (image folder, 3 classes)", "accuracy %", ours, theirs, sk))
        if ours < theirs - 2: failures.append("bars")

    print(f"{'data':34}{'metric':12}{'Nabla':>10}{'PyTorch':>10}{'sklearn':>10}")
    for name, metric, a, b, c in rows:
        print(f"{name:34}{metric:12}{a:10.4g}{b:10.4g}{c:10.4g}")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("Nabla within 2 points of accuracy and 0.02 of R^2 of PyTorch on every set.")


if __name__ == "__main__":
    main()
