using BenchmarkDotNet.Running;

namespace Nabla.Bench;

public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "gemm")
        {
            Quick.GemmJson(args.Length > 1 ? int.Parse(args[1]) : 2);
            return;
        }
        if (args.Length > 0 && args[0] == "quick-epoch")
        {
            Quick.Epoch(args.Length > 1 ? int.Parse(args[1]) : 2);
            return;
        }
        if (args.Length > 0 && args[0] == "quick-gather")
        {
            Quick.Gather();
            return;
        }
        if (args.Length > 0 && args[0] == "quick-long")
        {
            Quick.Long();
            return;
        }
        if (args.Length > 0 && args[0] == "quick-loss")
        {
            Quick.Loss();
            return;
        }
        if (args.Length > 0 && args[0] == "quick-shards")
        {
            Quick.Shards(args.Length > 1 ? int.Parse(args[1]) : 1);
            return;
        }
        if (args.Length > 0 && args[0] == "quick")
        {
            Quick.Run(args.Length > 1 ? int.Parse(args[1]) : 2);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
