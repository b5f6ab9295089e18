using System.Globalization;
using System.Text;

namespace OnnxBridge.Host.Repository;

/// <summary>
/// A reader for protobuf's text format, enough for Triton's <c>config.pbtxt</c>: fields are
/// <c>name: value</c>, <c>name { ... }</c> or <c>name: [ ... ]</c>, with <c>#</c> comments. Values
/// are kept as text (strings unquoted); messages as nested <see cref="TextProto"/>. Repeated fields
/// keep every occurrence.
/// </summary>
internal sealed class TextProto
{
    /// <summary>Refuses deeper nesting than this, so a hostile file cannot exhaust the stack.</summary>
    public const int MaxDepth = 32;

    private readonly Dictionary<string, List<object>> _fields = new(StringComparer.Ordinal);

    /// <summary>Every value of <paramref name="name"/>: strings for scalars, <see cref="TextProto"/> for messages.</summary>
    public IReadOnlyList<object> this[string name] => _fields.TryGetValue(name, out var values) ? values : [];

    /// <summary>The last scalar value of <paramref name="name"/>, or null.</summary>
    public string? Scalar(string name) => this[name].OfType<string>().LastOrDefault();

    /// <summary>The last message value of <paramref name="name"/>, or null.</summary>
    public TextProto? Message(string name) => this[name].OfType<TextProto>().LastOrDefault();

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">The text is not valid text format; the message gives the position.</exception>
    public static TextProto Parse(string text)
    {
        var reader = new Reader(text);
        var root = reader.Message(depth: 0, closing: null);
        return root;
    }

    private sealed class Reader(string text)
    {
        private int _pos;

        public TextProto Message(int depth, char? closing)
        {
            if (depth > MaxDepth) throw Error($"nesting deeper than {MaxDepth}");
            var message = new TextProto();
            while (true)
            {
                SkipSpace();
                if (_pos >= text.Length)
                {
                    if (closing is not null) throw Error($"missing '{closing}'");
                    return message;
                }
                if (closing is { } c && text[_pos] == c)
                {
                    _pos++;
                    return message;
                }
                var name = Identifier();
                SkipSpace();
                var colon = Peek() == ':';
                if (colon)
                {
                    _pos++;
                    SkipSpace();
                }
                var values = message._fields.TryGetValue(name, out var list) ? list : message._fields[name] = [];
                if (Peek() is '{' or '<')
                {
                    var open = text[_pos++];
                    values.Add(Message(depth + 1, open == '{' ? '}' : '>'));
                }
                else if (Peek() == '[') // a list: 'name: [1, 2]', or 'name [ {...} ]' for repeated messages
                {
                    _pos++;
                    ReadList(values, depth);
                }
                else if (colon)
                {
                    values.Add(ScalarValue());
                }
                else
                {
                    throw Error($"expected ':' or '{{' after '{name}'");
                }
                SkipSpace();
                if (Peek() is ',' or ';') _pos++;
            }
        }

        private void ReadList(List<object> values, int depth)
        {
            while (true)
            {
                SkipSpace();
                if (Peek() == ']')
                {
                    _pos++;
                    return;
                }
                if (Peek() == '{')
                {
                    _pos++;
                    values.Add(Message(depth + 1, '}'));
                }
                else
                {
                    values.Add(ScalarValue());
                }
                SkipSpace();
                if (Peek() == ',') _pos++;
                else if (Peek() != ']') throw Error("expected ',' or ']' in a list");
            }
        }

        private string ScalarValue()
        {
            if (Peek() is '"' or '\'')
            {
                var quote = text[_pos++];
                var value = new StringBuilder();
                while (_pos < text.Length && text[_pos] != quote)
                {
                    if (text[_pos] == '\\' && _pos + 1 < text.Length) _pos++;
                    value.Append(text[_pos++]);
                }
                if (_pos >= text.Length) throw Error("unterminated string");
                _pos++;
                return value.ToString();
            }
            var start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] is '-' or '+' or '.' or '_')) _pos++;
            if (_pos == start) throw Error("expected a value");
            return text[start.._pos];
        }

        private string Identifier()
        {
            var start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            if (_pos == start) throw Error($"expected a field name, found '{text[_pos]}'");
            return text[start.._pos];
        }

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private void SkipSpace()
        {
            while (_pos < text.Length)
            {
                if (char.IsWhiteSpace(text[_pos])) _pos++;
                else if (text[_pos] == '#')
                {
                    while (_pos < text.Length && text[_pos] != '\n') _pos++;
                }
                else return;
            }
        }

        private FormatException Error(string message)
        {
            var line = 1 + text.AsSpan(0, Math.Min(_pos, text.Length)).Count('\n');
            return new FormatException(string.Create(CultureInfo.InvariantCulture, $"line {line}: {message}"));
        }
    }
}
