namespace Nabla.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 60,000 training and 10,000 test 28×28 grayscale images of
/// 10 kinds of clothing, the dataset of the textbook's experiment.
/// </summary>
public static class FashionMnist
{
    /// <summary>Class names, in label order.</summary>
    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Files, checksums (as published by torchvision) and mirrors.</summary>
    public static readonly DatasetSpec Spec = new(
        "fashion-mnist", "Fashion-MNIST",
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
        ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe", "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"],
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"],
        ClassNames, "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist");
}
