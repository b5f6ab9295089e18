using System.IO.Compression;
using Microsoft.AspNetCore.Http.Features;
using OnnxBridge.Host.Protocol;

namespace OnnxBridge.Host.Endpoints;

/// <summary>Inference request and response bodies on the wire: the size limit, the lingering read of oversized bodies, and gzip/deflate both ways.</summary>
internal static class RequestBodies
{
    /// <summary>
    /// How far past <c>--max-body-bytes</c> the host reads, and throws away, an oversized body before
    /// answering 413 — nginx's and Triton's lingering close — so that clients that send the whole body
    /// before reading the answer (Python's urllib, Triton's client) see the 413 instead of a broken
    /// pipe. A body announced larger than the limit plus this is answered at once and the connection
    /// closed unread.
    /// </summary>
    public const long DrainBytes = 64L << 20;

    /// <summary>
    /// The whole body, decompressed when <c>Content-Encoding</c> says gzip or deflate (as Triton's
    /// HTTP endpoint takes them); 413 past the limit — raw or decompressed — after reading up to
    /// <see cref="DrainBytes"/> more of the raw body.
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        // Kestrel's own limit is the host's; this route enforces the limit itself so it can drain.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit + DrainBytes;
        try
        {
            if (request.ContentLength is { } declared && declared > limit)
            {
                if (declared <= limit + DrainBytes) await request.Body.CopyToAsync(Stream.Null).ConfigureAwait(false);
                throw TooLarge($"the request body ({declared} bytes) is larger than the limit of {limit} bytes");
            }
            using var buffer = new MemoryStream(request.ContentLength is { } known ? (int)known : 4096);
            var chunk = new byte[81920];
            int read;
            while ((read = await request.Body.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    await request.Body.CopyToAsync(Stream.Null).ConfigureAwait(false);
                    throw TooLarge($"the request body is larger than the limit of {limit} bytes");
                }
                buffer.Write(chunk, 0, read);
            }
            return Decoded(buffer.ToArray(), request.Headers.ContentEncoding.ToString(), limit);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Past the drain bound too: answered unread, and the connection closes.
            throw TooLarge($"the request body is larger than the limit of {limit} bytes");
        }
        catch (BadHttpRequestException e)
        {
            throw InferenceError.BadRequest($"the request body could not be read: {e.Message}");
        }
    }

    private static InferenceError TooLarge(string message) => new(StatusCodes.Status413PayloadTooLarge, message);

    /// <summary>
    /// <paramref name="body"/> decoded by <paramref name="encoding"/> (empty or identity: as it is;
    /// gzip; deflate, HTTP's zlib stream). The decompressed size is held to <paramref name="limit"/>
    /// too, so a small compressed bomb is a 413, not a huge allocation.
    /// </summary>
    private static byte[] Decoded(byte[] body, string encoding, long limit)
    {
        var kind = encoding.Trim().ToLowerInvariant();
        if (kind is "" or "identity") return body;
        if (kind is not ("gzip" or "deflate"))
            throw InferenceError.BadRequest($"Content-Encoding '{encoding}' is not supported; send gzip, deflate or no encoding");
        using var compressed = new MemoryStream(body);
        using Stream decoder = kind == "gzip" ? new GZipStream(compressed, CompressionMode.Decompress) : new ZLibStream(compressed, CompressionMode.Decompress);
        using var plain = new MemoryStream();
        var chunk = new byte[81920];
        try
        {
            int read;
            while ((read = decoder.Read(chunk)) > 0)
            {
                if (plain.Length + read > limit) throw TooLarge($"the request body decompresses to more than the limit of {limit} bytes");
                plain.Write(chunk, 0, read);
            }
        }
        catch (InvalidDataException e)
        {
            throw InferenceError.BadRequest($"the {kind} request body is corrupt: {e.Message}");
        }
        return plain.ToArray();
    }

    /// <summary>
    /// <paramref name="body"/> compressed as the request's <c>Accept-Encoding</c> asks (gzip preferred, then
    /// deflate), with <c>Content-Encoding</c> set; as it is otherwise.
    /// </summary>
    public static byte[] Encoded(HttpContext context, byte[] body)
    {
        var header = context.Request.Headers.AcceptEncoding;
        if (header.Count == 0) return body; // the common case: nothing to parse on the hot path
        var accepted = header.ToString().Split(',').Select(a => a.Split(';')[0].Trim().ToLowerInvariant()).ToHashSet();
        var kind = accepted.Contains("gzip") ? "gzip" : accepted.Contains("deflate") ? "deflate" : null;
        if (kind is null) return body;
        using var output = new MemoryStream();
        using (Stream encoder = kind == "gzip" ? new GZipStream(output, CompressionLevel.Fastest) : new ZLibStream(output, CompressionLevel.Fastest))
            encoder.Write(body);
        context.Response.Headers.ContentEncoding = kind;
        return output.ToArray();
    }
}
