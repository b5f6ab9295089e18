namespace OnnxBridge.Core.Values;

/// <summary>
/// An einsum equation checked against its operands' shapes, with the output shape — the rules of
/// torch.einsum and ONNX Einsum alike: one term of letters per operand, at most one "..." per term
/// standing for the dimensions the letters leave (broadcast across operands), a letter's size 1
/// broadcasting against its other sizes, repeated letters
/// taking diagonals, and an output after "->" or, without one, "..." followed by the letters that
/// appear once, in ASCII order (capitals first).
/// </summary>
internal sealed record EinsumEquation(string Text, Dim[] OutputShape)
{
    private const string Ellipsis = "...";

    /// <summary>The parsed equation (spaces removed), or the problem with it, stated with the shapes.</summary>
    public static (EinsumEquation? Equation, string? Problem) Parse(string equation, IReadOnlyList<IReadOnlyList<Dim>> shapes)
    {
        var text = equation.Replace(" ", "", StringComparison.Ordinal);
        var arrow = text.IndexOf("->", StringComparison.Ordinal);
        var terms = (arrow < 0 ? text : text[..arrow]).Split(',');
        if (terms.Length != shapes.Count) return (null, $"equation '{equation}' has {terms.Length} input term(s) for {shapes.Count} operand(s)");

        var sizes = new Dictionary<char, Dim>();
        var counts = new Dictionary<char, int>();
        Dim[] broadcast = [];
        var anyEllipsis = false;
        for (int k = 0; k < terms.Length; k++)
        {
            var (letters, hasEllipsis, problem) = Letters(terms[k]);
            if (problem is not null) return (null, $"equation '{equation}', term {k + 1} '{terms[k]}': {problem}");
            var shape = shapes[k];
            var spanned = shape.Count - letters.Count;
            if (spanned < 0 || (!hasEllipsis && spanned != 0))
                return (null, $"equation '{equation}': term '{terms[k]}' has {letters.Count} letter(s) for operand {k + 1} of shape {Dim.Format(shape)}");
            anyEllipsis |= hasEllipsis;
            var before = hasEllipsis ? terms[k].IndexOf(Ellipsis, StringComparison.Ordinal) : letters.Count;
            if (hasEllipsis)
            {
                var dims = shape.Skip(before).Take(spanned).ToList();
                if (Broadcast(broadcast, dims) is not { } merged)
                    return (null, $"equation '{equation}': the '...' dimensions {Dim.Format(dims)} of operand {k + 1} do not broadcast with {Dim.Format(broadcast)}");
                broadcast = merged;
            }
            for (int i = 0; i < letters.Count; i++)
            {
                var dim = shape[i < before ? i : i + spanned];
                var letter = letters[i];
                counts[letter] = counts.GetValueOrDefault(letter) + 1;
                // A size of 1 broadcasts against the letter's other sizes, as in PyTorch and numpy.
                if (!sizes.TryGetValue(letter, out var known)) sizes[letter] = dim;
                else if (Merge(known, dim) is { } merged) sizes[letter] = merged;
                else return (null, $"equation '{equation}': '{letter}' is {known.Size} in one place and {dim.Size} in operand {k + 1} of shape {Dim.Format(shape)}");
            }
        }

        List<char> output;
        bool outputEllipsis;
        if (arrow < 0)
        {
            output = [.. counts.Where(c => c.Value == 1).Select(c => c.Key).Order()];
            outputEllipsis = anyEllipsis;
        }
        else
        {
            var (letters, hasEllipsis, problem) = Letters(text[(arrow + 2)..]);
            if (problem is not null) return (null, $"equation '{equation}', output '{text[(arrow + 2)..]}': {problem}");
            if (letters.FirstOrDefault(l => !sizes.ContainsKey(l)) is var unknown && unknown != default)
                return (null, $"equation '{equation}': the output's '{unknown}' is in no input term");
            if (letters.Distinct().Count() != letters.Count) return (null, $"equation '{equation}': the output repeats a letter");
            if (anyEllipsis && !hasEllipsis && broadcast.Length > 0) return (null, $"equation '{equation}': the inputs' '...' dimensions {Dim.Format(broadcast)} must appear in the output as '...'");
            output = letters;
            outputEllipsis = hasEllipsis;
        }
        var outputShape = new List<Dim>();
        var outputText = arrow < 0 ? (outputEllipsis ? Ellipsis : "") + new string([.. output]) : text[(arrow + 2)..];
        var at = outputText.IndexOf(Ellipsis, StringComparison.Ordinal);
        for (int i = 0; i < output.Count; i++)
        {
            if (i == (at < 0 ? -1 : at)) outputShape.AddRange(broadcast);
            outputShape.Add(sizes[output[i]]);
        }
        if (outputEllipsis && at == output.Count) outputShape.AddRange(broadcast);
        return (new EinsumEquation(arrow < 0 ? text + "->" + outputText : text, [.. outputShape]), null);
    }

    /// <summary>The letters of one term, whether it has "...", or what is wrong with it.</summary>
    private static (List<char> Letters, bool HasEllipsis, string? Problem) Letters(string term)
    {
        var at = term.IndexOf(Ellipsis, StringComparison.Ordinal);
        if (at >= 0 && term.IndexOf(Ellipsis, at + 1, StringComparison.Ordinal) >= 0) return ([], true, "more than one '...'");
        var letters = (at < 0 ? term : term.Remove(at, Ellipsis.Length)).ToList();
        if (letters.FirstOrDefault(c => !char.IsAsciiLetter(c)) is var bad && bad != default) return ([], at >= 0, $"'{bad}' is not a letter (subscripts are a-z and A-Z)");
        return (letters, at >= 0, null);
    }

    /// <summary>Right-aligned broadcasting of two dimension lists; null where two known sizes other than 1 differ.</summary>
    private static Dim[]? Broadcast(IReadOnlyList<Dim> a, IReadOnlyList<Dim> b)
    {
        var rank = Math.Max(a.Count, b.Count);
        var result = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            var da = i < rank - a.Count ? Dim.Known(1) : a[i - (rank - a.Count)];
            var db = i < rank - b.Count ? Dim.Known(1) : b[i - (rank - b.Count)];
            if (Merge(da, db) is not { } merged) return null;
            result[i] = merged;
        }
        return result;
    }

    /// <summary>Two sizes of one dimension broadcast: 1 gives way, a known size beats an unknown; null for two different known sizes.</summary>
    private static Dim? Merge(Dim a, Dim b) =>
        a is { Size: 1 } ? b : b is { Size: 1 } ? a : a.IsKnown && b.IsKnown && a.Size != b.Size ? null : a.IsKnown ? a : b;
}
