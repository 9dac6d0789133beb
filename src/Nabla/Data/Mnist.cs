namespace Nabla.Data;

/// <summary>MNIST (LeCun et al.): 60,000 training and 10,000 test 28×28 images of handwritten digits.</summary>
public static class Mnist
{
    /// <summary>Class names, in label order.</summary>
    public static readonly string[] ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Files, checksums (as published by torchvision) and mirrors.</summary>
    public static readonly DatasetSpec Spec = new(
        "mnist", "MNIST",
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
        ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432", "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"],
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        ClassNames, null, null);
}
