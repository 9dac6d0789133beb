using Nabla.Compute;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Optim;

/// <summary>
/// Golden runs: each optimizer stepped three times on θ₀ = (0.5, −1, 2, 0) with fixed gradients, against the
/// values PyTorch 1.13's torch.optim gives for the same run. The script that produced them is
/// golden_optimizers.py beside this file; rerun it to re-pin.
/// </summary>
public class OptimizerTests
{
    private static readonly float[][] Grads = [[0.1f, -0.2f, 0.3f, 0.05f], [-0.3f, 0.1f, 0.2f, -0.4f], [0.2f, 0.2f, -0.1f, 0f]];

    private static float[] Run(Func<Tensor[], Optimizer> make)
    {
        var p = Tensor.FromArray([0.5f, -1f, 2f, 0f]).RequireGrad();
        var opt = make([p]);
        foreach (var g in Grads)
        {
            p.Grad = Tensor.FromArray(g);
            opt.Step();
        }
        return p.ToArray();
    }

    public static IEnumerable<object[]> Golden() =>
    [
        ["sgd", new float[] { 0.50000006f, -1.00999999f, 1.96000004f, 0.0350000001f }],
        ["sgd_momentum", new float[] { 0.50355202f, -0.975644469f, 1.88298726f, 0.0548346937f }],
        ["sgd_nesterov", new float[] { 0.50891f, -0.996320009f, 1.86162996f, 0.0912050009f }],
        ["adam", new float[] { 0.447540224f, -0.900635958f, 1.74777567f, 0.0161896199f }],
        ["adam_amsgrad_wd", new float[] { 0.409385204f, -0.812167883f, 1.71775901f, 0.0170961618f }],
        ["adamw", new float[] { 0.446192205f, -0.897865534f, 1.74207878f, 0.0163239874f }],
        ["rmsprop", new float[] { 0.441252589f, -1.01190233f, 1.87127483f, -0.000764414668f }],
        ["rmsprop_centered_momentum_wd", new float[] { 0.329886824f, -0.771217406f, 1.597332f, -0.0807952955f }],
        ["adagrad", new float[] { 0.441416055f, -1.01138806f, 1.87125611f, -0.000772215426f }],
        ["adagrad_decay_init_wd", new float[] { 0.48322767f, -0.972571611f, 1.89671385f, 0.0372966342f }],
    ];

    private static Optimizer Make(string name, Tensor[] p) => name switch
    {
        "sgd" => new Sgd(p, new SgdOptions(0.1f)),
        "sgd_momentum" => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f, Dampening: 0.1f, WeightDecay: 0.01f)),
        "sgd_nesterov" => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f, Nesterov: true)),
        "adam" => new Adam(p, new AdamOptions(0.1f)),
        "adam_amsgrad_wd" => new Adam(p, new AdamOptions(0.1f, WeightDecay: 0.1f, Amsgrad: true)),
        "adamw" => new AdamW(p, new AdamOptions(0.1f, WeightDecay: 0.01f)),
        "rmsprop" => new RmsProp(p, new RmsPropOptions(0.01f)),
        "rmsprop_centered_momentum_wd" => new RmsProp(p, new RmsPropOptions(0.01f, Centered: true, Momentum: 0.9f, WeightDecay: 0.1f)),
        "adagrad" => new Adagrad(p, new AdagradOptions(0.1f)),
        _ => new Adagrad(p, new AdagradOptions(0.1f, LrDecay: 0.1f, InitialAccumulatorValue: 0.5f, WeightDecay: 0.1f)),
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void Step_ThreeSteps_MatchesPyTorch(string name, float[] expected) =>
        Close.All(expected, Run(p => Make(name, p)), atol: 2e-6, rtol: 2e-6, what: name);

    /// <summary>
    /// Every buffer PyTorch keeps after three steps on a 32-element parameter (golden_optimizers.py's "wide" lines:
    /// long enough for its vectorized kernels to do every element).
    /// </summary>
    public static IEnumerable<object[]> GoldenState() =>
    [
        ["sgd", "param", new float[] { -1.50999999f, 0.194999993f, -1.26499999f, 0.439999998f, -1.01999998f, 0.769999981f, -0.690000057f, 1.01499999f, -0.530000031f, 1.17500007f, -0.284999996f, 1.505f, 0.0450000018f, -1.5f, 0.289999992f, -1.255f, 0.620000064f, -1.00999999f, 0.694999993f, -0.764999986f, 0.939999998f, -0.520000041f, 1.26999998f, -0.189999998f, 1.51499999f, -0.0300000031f, -1.57499993f, 0.215000004f, -1.245f, 0.545000017f, -1f, 0.790000021f }],
        ["sgd_momentum", "param", new float[] { -1.54402685f, 0.162098438f, -1.28799999f, 0.418125421f, -1.031973f, 0.81943351f, -0.630664825f, 1.07546055f, -0.604697287f, 1.10142803f, -0.348670274f, 1.50273633f, 0.052637849f, -1.47396052f, 0.308664829f, -1.21793365f, 0.709972978f, -1.04668486f, 0.659440577f, -0.790657759f, 0.915467501f, -0.534630895f, 1.31677556f, -0.133322746f, 1.57280266f, -0.107355125f, -1.63395357f, 0.148671851f, -1.23264539f, 0.549979985f, -0.976618409f, 0.806006968f }],
        ["sgd_momentum", "momentum_buffer", new float[] { 0.0425707251f, 0.487242848f, 0.0851232335f, 0.529795349f, 0.127675727f, -0.11546357f, -0.517583191f, -0.0729110762f, 0.21132797f, 0.656000137f, 0.253880471f, 0.0107411407f, -0.391378492f, -0.0284981392f, -0.348825961f, 0.0140543664f, -0.994084954f, 0.0551540665f, 0.499826223f, 0.0977065861f, 0.542378724f, 0.140259087f, -0.102880232f, -0.504999816f, -0.0603277124f, 0.223911285f, 0.586791635f, 0.266463786f, -0.0584672913f, -0.378795147f, -0.0159147866f, -0.336242616f }],
        ["sgd_nesterov", "param", new float[] { -1.55261493f, 0.115125f, -1.30563498f, 0.362105012f, -1.05865502f, 0.839435041f, -0.581324995f, 1.08641493f, -0.626659989f, 1.04108f, -0.379680008f, 1.51840997f, 0.097649999f, -1.48460996f, 0.344629973f, -1.23763001f, 0.821959972f, -1.05261493f, 0.615124941f, -0.805635035f, 0.862104952f, -0.558655024f, 1.33943498f, -0.081325002f, 1.58641493f, -0.126659989f, -1.70892f, 0.12032f, -1.23159003f, 0.597650051f, -0.984610021f, 0.844629943f }],
        ["sgd_nesterov", "momentum_buffer", new float[] { 0.0584999956f, 0.512499988f, 0.116500005f, 0.570500016f, 0.174500018f, -0.136500001f, -0.532500029f, -0.0785000026f, 0.213999972f, 0.667999983f, 0.271999955f, -0.0389999896f, -0.435000002f, 0.0190000087f, -0.376999974f, 0.0769999996f, -1.08399999f, 0.0584999956f, 0.512499988f, 0.116500005f, 0.570500016f, 0.174500018f, -0.136500001f, -0.532500029f, -0.0785000026f, 0.213999972f, 0.667999983f, 0.271999955f, -0.0389999896f, -0.435000002f, 0.0190000087f, -0.376999974f }],
        ["adam", "param", new float[] { -1.61994505f, 0.0475217924f, -1.48202324f, 0.221830457f, -0.994548559f, 0.962779939f, -0.454909801f, 1.18844914f, -0.712915003f, 0.953561187f, -0.48044768f, 1.45654035f, 0.157270938f, -1.34158087f, 0.414940476f, -1.16678596f, 0.800000072f, -1.11994505f, 0.54752183f, -0.98202318f, 0.721830487f, -0.494548559f, 1.46278012f, 0.045090206f, 1.68844914f, -0.212914929f, -1.79643881f, 0.0195523314f, -1.29345965f, 0.657270908f, -0.841580927f, 0.914940476f }],
        ["adam", "exp_avg", new float[] { 0.00584999984f, 0.0512499996f, 0.0116500007f, 0.0570500009f, 0.0174499992f, -0.0136500001f, -0.0532499999f, -0.00784999691f, 0.0214000028f, 0.0667999983f, 0.0272000004f, -0.00390000059f, -0.0435000025f, 0.00190000003f, -0.0377000012f, 0.00770000089f, -0.108400002f, 0.00584999984f, 0.0512499996f, 0.0116500007f, 0.0570500009f, 0.0174499992f, -0.0136500001f, -0.0532499999f, -0.00784999691f, 0.0214000028f, 0.0667999983f, 0.0272000004f, -0.00390000059f, -0.0435000025f, 0.00190000003f, -0.0377000012f }],
        ["adam", "exp_avg_sq", new float[] { 0.000184692632f, 0.00023236507f, 2.74525282e-05f, 0.00016495501f, 0.000134872505f, 0.000234832522f, 0.00012483506f, 0.000187252648f, 0.000209670179f, 0.000192257605f, 0.000262260059f, 0.000122390018f, 0.000112477508f, 1.99800106e-05f, 0.000184897552f, 0.000182230113f, 0.000479520182f, 0.000184692632f, 0.00023236507f, 2.74525282e-05f, 0.00016495501f, 0.000134872505f, 0.000234832522f, 0.00012483506f, 0.000187252648f, 0.000209670179f, 0.000192257605f, 0.000262260059f, 0.000122390018f, 0.000112477508f, 1.99800106e-05f, 0.000184897552f }],
        ["adam_amsgrad_wd", "param", new float[] { -1.5143292f, 0.0370051786f, -1.22226775f, 0.211616188f, -0.916560113f, 0.927250981f, -0.454248846f, 1.1168108f, -0.682539821f, 0.952700615f, -0.468483686f, 1.3301301f, 0.157498389f, -1.22551024f, 0.387806237f, -1.08552182f, 0.799681067f, -1.0446136f, 0.513017952f, -0.836062968f, 0.706977487f, -0.45975706f, 1.40193367f, 0.0442440361f, 1.57547212f, -0.207429692f, -1.77962244f, 0.0152682438f, -1.01803136f, 0.511012435f, -0.743342757f, 0.842487156f }],
        ["adam_amsgrad_wd", "exp_avg", new float[] { -0.0363247804f, 0.0557047054f, -0.023600053f, 0.0677554533f, -0.00805992633f, 0.00947342906f, -0.070685409f, 0.0216277968f, 0.0051997425f, 0.0977818146f, 0.0175643694f, 0.0346869826f, -0.0427558646f, -0.0359017104f, -0.0291053765f, -0.0239577964f, -0.0919508561f, -0.0229207613f, 0.0690885112f, -0.0108673265f, 0.0812812597f, 0.0052973805f, 0.0229415148f, -0.0571387522f, 0.0349282995f, 0.0186828747f, 0.0232925098f, 0.0311015081f, -0.0350919403f, -0.0314496607f, -0.0223835167f, -0.0158175044f }],
        ["adam_amsgrad_wd", "exp_avg_sq", new float[] { 0.000232265302f, 0.000251445832f, 4.01517827e-05f, 0.000212344152f, 0.000127274747f, 0.000230992155f, 0.00021763632f, 0.000199034432f, 0.00019541115f, 0.000406422361f, 0.000250448444f, 0.000171106643f, 0.000108068067f, 8.28867633e-05f, 0.000164486584f, 0.000218277448f, 0.000346645218f, 0.000203446398f, 0.000317442726f, 2.58603595e-05f, 0.000291639852f, 0.000127016508f, 0.000243197879f, 0.00014572026f, 0.000221985203f, 0.000215370776f, 3.1472613e-05f, 0.000282471796f, 0.00017451102f, 8.011717e-05f, 4.83792355e-05f, 0.000142815552f }],
        ["adam_amsgrad_wd", "max_exp_avg_sq", new float[] { 0.000232265302f, 0.000251445832f, 4.01517827e-05f, 0.000212344152f, 0.000127274747f, 0.000230992155f, 0.00021763632f, 0.000199034432f, 0.00019541115f, 0.000406422361f, 0.000250448444f, 0.000171106643f, 0.000108068067f, 8.28867633e-05f, 0.000164486584f, 0.000218277448f, 0.000346645218f, 0.000203446398f, 0.000317442726f, 2.58603595e-05f, 0.000291639852f, 0.000127016508f, 0.000243197879f, 0.00014572026f, 0.000221985203f, 0.000215370776f, 3.1472613e-05f, 0.000282471796f, 0.00017451102f, 8.011717e-05f, 4.83792355e-05f, 0.000142815552f }],
        ["adamw", "param", new float[] { -1.61523843f, 0.0470070317f, -1.47798991f, 0.220620275f, -0.991687298f, 0.960237503f, -0.452960789f, 1.18517542f, -0.71113348f, 0.950114012f, -0.479402006f, 1.45219541f, 0.157196522f, -1.33735228f, 0.413982391f, -1.16323435f, 0.79820168f, -1.11673689f, 0.545508564f, -0.979488432f, 0.719121814f, -0.493185788f, 1.45873916f, 0.0455407165f, 1.68367696f, -0.212631986f, -1.79164433f, 0.0190995112f, -1.28956294f, 0.655698061f, -0.838850915f, 0.912483871f }],
        ["adamw", "exp_avg", new float[] { 0.00584999984f, 0.0512499996f, 0.0116500007f, 0.0570500009f, 0.0174499992f, -0.0136500001f, -0.0532499999f, -0.00784999691f, 0.0214000028f, 0.0667999983f, 0.0272000004f, -0.00390000059f, -0.0435000025f, 0.00190000003f, -0.0377000012f, 0.00770000089f, -0.108400002f, 0.00584999984f, 0.0512499996f, 0.0116500007f, 0.0570500009f, 0.0174499992f, -0.0136500001f, -0.0532499999f, -0.00784999691f, 0.0214000028f, 0.0667999983f, 0.0272000004f, -0.00390000059f, -0.0435000025f, 0.00190000003f, -0.0377000012f }],
        ["adamw", "exp_avg_sq", new float[] { 0.000184692632f, 0.00023236507f, 2.74525282e-05f, 0.00016495501f, 0.000134872505f, 0.000234832522f, 0.00012483506f, 0.000187252648f, 0.000209670179f, 0.000192257605f, 0.000262260059f, 0.000122390018f, 0.000112477508f, 1.99800106e-05f, 0.000184897552f, 0.000182230113f, 0.000479520182f, 0.000184692632f, 0.00023236507f, 2.74525282e-05f, 0.00016495501f, 0.000134872505f, 0.000234832522f, 0.00012483506f, 0.000187252648f, 0.000209670179f, 0.000192257605f, 0.000262260059f, 0.000122390018f, 0.000112477508f, 1.99800106e-05f, 0.000184897552f }],
        ["rmsprop", "param", new float[] { -1.54168272f, 0.104103334f, -1.35135233f, 0.216675729f, -0.971659064f, 0.879879117f, -0.544631124f, 1.05609381f, -0.580379605f, 1.0399189f, -0.390513033f, 1.4518652f, 0.189532191f, -1.47106516f, 0.37140584f, -1.23267949f, 0.72891295f, -1.04168272f, 0.604103327f, -0.851352274f, 0.716675758f, -0.471659064f, 1.379879f, -0.0446310863f, 1.55609381f, -0.0803796053f, -1.7100811f, 0.109486975f, -1.2981348f, 0.689532161f, -0.971065164f, 0.8714059f }],
        ["rmsprop", "square_avg", new float[] { 0.00181937241f, 0.00231156265f, 0.000270272547f, 0.00164550252f, 0.00133725244f, 0.00233327248f, 0.00123356248f, 0.0018503723f, 0.00206716033f, 0.00190084008f, 0.00260104006f, 0.00121401006f, 0.00112275011f, 0.000198010021f, 0.00183978991f, 0.00179809006f, 0.00475216052f, 0.00181937241f, 0.00231156265f, 0.000270272547f, 0.00164550252f, 0.00133725244f, 0.00233327248f, 0.00123356248f, 0.0018503723f, 0.00206716033f, 0.00190084008f, 0.00260104006f, 0.00121401006f, 0.00112275011f, 0.000198010021f, 0.00183978991f }],
        ["rmsprop_centered_momentum_wd", "param", new float[] { -1.56785893f, -0.0484653078f, -1.24870527f, -0.0325023122f, -0.838890374f, 1.12388635f, -0.312136471f, 1.14544547f, -0.732883096f, 0.804129541f, -0.635139585f, 1.26046753f, 0.280684114f, -1.12440276f, 0.462020367f, -1.04094255f, 0.96286279f, -1.09128726f, 0.415857673f, -0.855075955f, 0.476837575f, -0.369148821f, 1.62183094f, 0.181155533f, 1.59237194f, -0.266611367f, -1.88619649f, -0.143547505f, -0.79993844f, 0.492328078f, -0.659403443f, 0.925070763f }],
        ["rmsprop_centered_momentum_wd", "square_avg", new float[] { 0.00231292495f, 0.00248463219f, 0.000418049691f, 0.00204878207f, 0.00124944048f, 0.0023805988f, 0.00212820899f, 0.00199326454f, 0.00194673205f, 0.00398470461f, 0.00253803423f, 0.00168593996f, 0.00106345781f, 0.000813199498f, 0.0016200298f, 0.00214522006f, 0.00339350128f, 0.00201887335f, 0.00313575612f, 0.000262844056f, 0.00283308607f, 0.00124696014f, 0.002525524f, 0.00142261072f, 0.00222799159f, 0.00213806797f, 0.000307224313f, 0.00284076878f, 0.00174004445f, 0.000820256828f, 0.000477546302f, 0.00140103314f }],
        ["rmsprop_centered_momentum_wd", "momentum_buffer", new float[] { -3.30351496f, 13.7254105f, -9.60489845f, 24.8375587f, -5.69437075f, -8.59352016f, -18.289566f, 2.19814634f, 3.0459137f, 18.8921452f, 10.3118572f, 10.2708578f, -18.0180397f, -13.5147991f, -9.38923454f, -5.82426262f, -20.1347046f, -1.73680234f, 15.4003258f, -4.33195591f, 24.2478371f, -3.53119779f, -8.09224224f, -17.7808552f, 5.01539612f, 5.34515333f, 14.3130732f, 11.3765945f, -15.8721256f, -9.20484734f, -10.8087683f, -7.25801802f }],
        ["rmsprop_centered_momentum_wd", "grad_avg", new float[] { -0.00370019278f, 0.00594206527f, -0.00244172756f, 0.00707147457f, -0.000791485538f, 0.000679874793f, -0.00780335814f, 0.00181167561f, 0.00112342718f, 0.0107714776f, 0.00229615578f, 0.00372892735f, -0.00438449625f, -0.00409530196f, -0.00301504787f, -0.00293261185f, -0.0100343348f, -0.002222904f, 0.00740818726f, -0.0010103191f, 0.00855996739f, 0.00068493787f, 0.00216788193f, -0.00631992938f, 0.00327182445f, 0.00259774155f, 0.00261758571f, 0.00378344487f, -0.00381168653f, -0.00319916871f, -0.0026181927f, -0.00154563552f }],
        ["adagrad", "param", new float[] { -1.5418762f, 0.104182936f, -1.35147166f, 0.216821671f, -0.971778393f, 0.880029261f, -0.545104086f, 1.05640709f, -0.580609977f, 1.04039729f, -0.390647739f, 1.45201111f, 0.189442724f, -1.47071064f, 0.371373355f, -1.23241472f, 0.728445709f, -1.0418762f, 0.604182899f, -0.851471663f, 0.716821671f, -0.471778363f, 1.38002932f, -0.0451040827f, 1.55640709f, -0.0806099921f, -1.70960271f, 0.109352268f, -1.29798889f, 0.689442754f, -0.970710635f, 0.871373355f }],
        ["adagrad", "sum", new float[] { 0.185000002f, 0.232500002f, 0.0274999999f, 0.164999992f, 0.13499999f, 0.234999999f, 0.125f, 0.1875f, 0.210000023f, 0.19250001f, 0.262499988f, 0.12250001f, 0.112500004f, 0.0200000014f, 0.185000002f, 0.182500005f, 0.480000019f, 0.185000002f, 0.232500002f, 0.0274999999f, 0.164999992f, 0.13499999f, 0.234999999f, 0.125f, 0.1875f, 0.210000023f, 0.19250001f, 0.262499988f, 0.12250001f, 0.112500004f, 0.0200000014f, 0.185000002f }],
        ["adagrad_decay_init_wd", "param", new float[] { -1.46899879f, 0.182759866f, -1.22406936f, 0.417479634f, -0.988028347f, 0.756093562f, -0.657060087f, 0.991495848f, -0.524016201f, 1.13379097f, -0.288308114f, 1.45460272f, 0.0506371818f, -1.44432926f, 0.285635293f, -1.21082044f, 0.611578584f, -0.984663308f, 0.668506622f, -0.742719293f, 0.903422534f, -0.50529629f, 1.23941302f, -0.170881271f, 1.47497511f, -0.0394535288f, -1.53828037f, 0.196641549f, -1.20271552f, 0.533147693f, -0.961293101f, 0.768712044f }],
        ["adagrad_decay_init_wd", "sum", new float[] { 0.724193215f, 0.760154665f, 0.536715209f, 0.72830987f, 0.626410067f, 0.724556923f, 0.726422966f, 0.689733624f, 0.689580798f, 0.917350829f, 0.74872005f, 0.675105989f, 0.611371636f, 0.586029112f, 0.667558312f, 0.718233109f, 0.858821511f, 0.697236538f, 0.828472137f, 0.522109807f, 0.808804512f, 0.623987019f, 0.73436451f, 0.6531353f, 0.711724401f, 0.711467445f, 0.534270525f, 0.782750189f, 0.681851685f, 0.574855208f, 0.549478412f, 0.643210471f }],
    ];

    [Theory]
    [MemberData(nameof(GoldenState))]
    public void Step_ThreeSteps_EveryBufferBitwiseAsPyTorch(string name, string buffer, float[] expected)
    {
        // The constants are PyTorch's (bias corrections and 1 − β in double, rounded once) and the rules follow its
        // order of operations and fusions, so every buffer agrees to the bit. Both ways of stepping: parameter by
        // parameter (each gradient a tensor of its own, as assigning Grad makes it) and one loop over the arenas (the
        // gradient written into the parameter's view in the gradient arena, as backward does).
        const int n = 32;
        foreach (bool throughArena in new[] { false, true })
        {
            var p = Tensor.FromArray([.. Enumerable.Range(0, n).Select(j => (float)(((j * 7) % 13 - 6) / 4.0))]).RequireGrad();
            var opt = Make(name, [p]);
            Assert.NotNull(opt.Arena);
            for (int t = 0; t < 3; t++)
            {
                float[] g = [.. Enumerable.Range(0, n).Select(j => (float)((((j + 1) * (t + 3) * 5) % 17 - 8) / 20.0))];
                if (throughArena) g.CopyTo(p.Grad!.Data);
                else p.Grad = Tensor.FromArray(g);
                opt.Step();
            }
            var actual = buffer == "param" ? p.ToArray() : opt.State().Single(s => s.Name == buffer).Buffers[0].ToArray();
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{name} {buffer}[{i}] ({(throughArena ? "arena" : "per parameter")}): PyTorch {expected[i]:R}, Nabla {actual[i]:R}");
        }
    }

    [Fact]
    public void Defaults_AreTorchDefaults()
    {
        Assert.Equal(new AdamOptions(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false), new AdamOptions());
        Assert.Equal(1e-2f, new RmsPropOptions().LearningRate);
        Assert.Equal(0.99f, new RmsPropOptions().Alpha);
        Assert.Equal(1e-10f, new AdagradOptions().Eps);
        var w = Tensor.Zeros(1).RequireGrad();
        Assert.Equal(1e-2f, new AdamW([w]).Options.WeightDecay);
    }

    [Fact]
    public void L1Penalty_AddsLambdaSignTheta()
    {
        // θ ← θ − γ(g + λ·sign θ) with γ = 0.1, λ = 0.5: by hand, (0.5, −1, 2, 0) with g = (0.1, −0.2, 0.3, 0.05)
        // gives (0.5 − 0.1·0.6, −1 − 0.1·(−0.7), 2 − 0.1·0.8, 0 − 0.1·0.05) = (0.44, −0.93, 1.92, −0.005).
        var p = Tensor.FromArray([0.5f, -1f, 2f, 0f]).RequireGrad();
        var opt = new Sgd([p], new SgdOptions(0.1f)) { L1Penalty = 0.5f };
        p.Grad = Tensor.FromArray(Grads[0]);
        opt.Step();
        Close.All([0.44f, -0.93f, 1.92f, -0.005f], p.Data, 1e-6, 1e-6);
        Assert.Equal(Grads[0], p.Grad.ToArray()); // the gradient itself is left alone
    }

    [Fact]
    public void Step_LargeParameterInParallel_EqualsSerial()
    {
        float[] Once(int threads)
        {
            var p = Tensor.Uniform(new Shape(100_000), -1, 1, new Rng(1)).RequireGrad();
            p.Grad = Tensor.Uniform(new Shape(100_000), -1, 1, new Rng(2));
            var opt = new Adam([p]) { Pool = new Nabla.Compute.WorkerPool(threads) };
            opt.Step(); opt.Step();
            return p.ToArray();
        }
        Assert.Equal(Once(1), Once(2));
    }

    [Fact]
    public void ClipGradNorm_ScalesToMaxNorm()
    {
        var a = Tensor.Zeros(2).RequireGrad();
        var b = Tensor.Zeros(1).RequireGrad();
        a.Grad = Tensor.FromArray([3f, 0f]);
        b.Grad = Tensor.FromArray([4f]);
        float norm = GradClip.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, a.Grad.Data[0], 4);
        Assert.Equal(0.8f, b.Grad.Data[0], 4);
        Assert.Equal(1f, GradClip.ClipGradNorm([a, b], 10f), 4); // under the limit: unchanged
        Assert.Equal(0.6f, a.Grad.Data[0], 4);
    }

    [Fact]
    public void Schedulers_FollowTheirFormulas()
    {
        var w = Tensor.Zeros(1).RequireGrad();
        var opt = new Sgd([w], new SgdOptions(1f));
        var step = new StepLR(opt, stepSize: 2, gamma: 0.5f);
        var rates = new List<float>();
        for (int e = 0; e < 5; e++) { step.Step(); rates.Add(opt.LearningRate); }
        Assert.Equal([1f, 0.5f, 0.5f, 0.25f, 0.25f], rates);

        var opt2 = new Sgd([w], new SgdOptions(1f));
        var cos = new CosineAnnealingLR(opt2, tMax: 4, etaMin: 0.2f);
        cos.Step();
        Assert.Equal(0.2f + 0.8f * (1 + MathF.Cos(MathF.PI / 4)) / 2, opt2.LearningRate, 6);
        cos.Step(); cos.Step(); cos.Step();
        Assert.Equal(0.2f, opt2.LearningRate, 6);
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public void Constructor_BadLearningRate_Throws(float lr)
    {
        var w = Tensor.Zeros(1).RequireGrad();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([w], new SgdOptions(lr)));
        Assert.Contains("learning rate", e.Message);
    }

    [Fact]
    public void Constructor_NesterovWithoutMomentum_Throws() =>
        Assert.Throws<ArgumentException>(() => new Sgd([Tensor.Zeros(1)], new SgdOptions(Nesterov: true)));
}

[Collection("Serial")]
public class OptimizerVectorTests
{
    [Theory]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    [InlineData("sgd-momentum")]
    [InlineData("adagrad")]
    [InlineData("sgd")]
    public void Update_Vector512_Vector256_Scalar_AgreeBitForBit(string config)
    {
        float[] Train(int width)
        {
            using (ComputeContext.Begin(new ComputeSettings { MaxVectorWidth = width }))
            {
                var p = Tensor.FromArray(Nabla.Tests.Testing.Close.Random(157, 1)).RequireGrad(); // 2×64 + 16 + 8 + 5
                Optimizer opt = config switch
                {
                    "adam" => new Adam([p], new AdamOptions(0.01f, WeightDecay: 0.1f, Amsgrad: true)),
                    "rmsprop" => new RmsProp([p], new RmsPropOptions(0.01f, Centered: true, Momentum: 0.9f)),
                    "adagrad" => new Adagrad([p], new AdagradOptions(0.1f, LrDecay: 0.1f)) { L1Penalty = 0.01f },
                    "sgd" => new Sgd([p], new SgdOptions(0.1f)), // the plain rule's own unrolled loop
                    _ => new Sgd([p], new SgdOptions(0.1f, Momentum: 0.9f, Nesterov: true, WeightDecay: 0.01f)),
                };
                for (int s = 0; s < 3; s++)
                {
                    p.Grad = Tensor.FromArray(Nabla.Tests.Testing.Close.Random(157, 10 + s));
                    opt.Step();
                }
                return p.ToArray();
            }
        }
        var widest = Train(16);
        Assert.Equal(widest, Train(8));
        Assert.Equal(widest, Train(1));
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adam_amsgrad_wd")]
    [InlineData("adamw")]
    [InlineData("sgd")]
    [InlineData("sgd_momentum")]
    [InlineData("rmsprop")]
    [InlineData("rmsprop_centered_momentum_wd")]
    [InlineData("adagrad_wd")]
    public void Update_VectorBodyAndScalarTail_AgreeBitForBit(string config)
    {
        // One 37-element parameter (four vectors and a tail) against 37 one-element parameters (all tail).
        var theta = Nabla.Tests.Testing.Close.Random(37, 1);
        var grads = new[] { Nabla.Tests.Testing.Close.Random(37, 2), Nabla.Tests.Testing.Close.Random(37, 3) };
        var whole = Tensor.FromArray(theta).RequireGrad();
        var parts = theta.Select(v => Tensor.FromArray([v]).RequireGrad()).ToArray();
        Optimizer Make(Tensor[] p) => config switch
        {
            "adam" => new Adam(p),
            "adam_amsgrad_wd" => new Adam(p, new AdamOptions(0.01f, WeightDecay: 0.1f, Amsgrad: true)),
            "adamw" => new AdamW(p),
            "sgd" => new Sgd(p, new SgdOptions(0.1f)),
            "rmsprop" => new RmsProp(p),
            "rmsprop_centered_momentum_wd" => new RmsProp(p, new RmsPropOptions(0.01f, Centered: true, Momentum: 0.9f, WeightDecay: 0.1f)),
            "adagrad_wd" => new Adagrad(p, new AdagradOptions(0.1f, LrDecay: 0.1f, WeightDecay: 0.1f)),
            _ => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f)),
        };
        var a = Make([whole]);
        var b = Make(parts);
        foreach (var g in grads)
        {
            whole.Grad = Tensor.FromArray(g);
            for (int i = 0; i < 37; i++) parts[i].Grad = Tensor.FromArray([g[i]]);
            a.Step();
            b.Step();
        }
        Assert.Equal(parts.Select(p => p.Data[0]), whole.ToArray());
    }
}
