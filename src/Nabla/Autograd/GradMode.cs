namespace Nabla.Autograd;

/// <summary>
/// Whether operations are recorded for autograd on the current thread. <see cref="NoGrad"/> opens a scope in
/// which they are not, as PyTorch's <c>torch.no_grad()</c>: <c>using (GradMode.NoGrad()) { … }</c>.
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static int t_disabled;

    /// <summary>True unless inside a <see cref="NoGrad"/> scope on this thread.</summary>
    public static bool IsEnabled => t_disabled == 0;

    /// <summary>Disables recording until the returned scope is disposed; scopes nest.</summary>
    public static NoGradScope NoGrad()
    {
        t_disabled++;
        return new NoGradScope();
    }

    /// <summary>The scope returned by <see cref="NoGrad"/>; a struct so that opening one allocates nothing.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        /// <summary>Ends the scope.</summary>
        public void Dispose() => t_disabled--;
    }
}
