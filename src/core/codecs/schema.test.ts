import {describe, expect, it} from 'vitest'
import {fromGeminiSchema, toGeminiSchema} from './schema.js'

describe('toGeminiSchema', () => {
  it('drops keywords Gemini rejects and reports them', () => {
    const dropped: string[] = []
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        count: {type: 'integer', exclusiveMinimum: 0, minimum: 1, format: 'int32'},
        url: {type: 'string', format: 'uri', description: 'Where'},
        when: {type: 'string', format: 'date-time'},
      },
      required: ['count', 'missing'],
    }
    expect(toGeminiSchema(schema, (field) => dropped.push(field))).toEqual({
      type: 'object',
      properties: {
        count: {type: 'integer', minimum: 1, format: 'int32'},
        url: {type: 'string', description: 'Where'},
        when: {type: 'string', format: 'date-time'},
      },
      required: ['count'],
    })
    expect(dropped.sort()).toEqual([
      'schema.$schema',
      'schema.additionalProperties',
      'schema.exclusiveMinimum',
      'schema.format',
    ])
  })

  it('inlines simple $refs from $defs and definitions', () => {
    const schema = {
      type: 'object',
      properties: {home: {$ref: '#/$defs/Address'}, work: {$ref: '#/definitions/Address', description: 'Office'}},
      $defs: {Address: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}},
      definitions: {Address: {type: 'object', properties: {street: {type: 'string'}}}},
    }
    expect(toGeminiSchema(schema)).toEqual({
      type: 'object',
      properties: {
        home: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']},
        // $defs wins over definitions for the same name
        work: {type: 'object', description: 'Office', properties: {city: {type: 'string'}}, required: ['city']},
      },
    })
  })

  it('replaces recursive and unresolvable $refs by a plain object', () => {
    const dropped: string[] = []
    const schema = {
      type: 'object',
      properties: {tree: {$ref: '#/$defs/Node'}, other: {$ref: 'https://example.com/x.json', description: 'remote'}},
      $defs: {
        Node: {
          type: 'object',
          properties: {name: {type: 'string'}, children: {type: 'array', items: {$ref: '#/$defs/Node'}}},
        },
      },
    }
    expect(toGeminiSchema(schema, (field) => dropped.push(field))).toEqual({
      type: 'object',
      properties: {
        tree: {
          type: 'object',
          properties: {name: {type: 'string'}, children: {type: 'array', items: {type: 'object'}}},
        },
        other: {type: 'object', description: 'remote'},
      },
    })
    expect(dropped).toEqual(['schema.$ref', 'schema.$ref'])
  })

  it('turns nullable type arrays, const, oneOf and allOf into the OpenAPI subset', () => {
    const schema = {
      type: 'object',
      properties: {
        a: {type: ['string', 'null']},
        b: {const: 'fixed'},
        c: {oneOf: [{type: 'string'}, {type: 'null'}]},
        d: {anyOf: [{type: 'string'}, {type: 'number'}]},
        e: {
          allOf: [
            {type: 'object', properties: {x: {type: 'string'}}, required: ['x']},
            {properties: {y: {type: 'number'}}, required: ['y']},
          ],
        },
        f: {type: 'integer', enum: [1, 2]},
      },
    }
    expect(toGeminiSchema(schema)).toEqual({
      type: 'object',
      properties: {
        a: {type: 'string', nullable: true},
        b: {type: 'string', enum: ['fixed']},
        c: {type: 'string', nullable: true},
        d: {anyOf: [{type: 'string'}, {type: 'number'}]},
        e: {type: 'object', properties: {x: {type: 'string'}, y: {type: 'number'}}, required: ['x', 'y']},
        f: {type: 'integer'},
      },
    })
  })

  it('omits empty properties, which Gemini rejects on object schemas', () => {
    expect(toGeminiSchema({type: 'object', properties: {}, required: []})).toEqual({type: 'object'})
  })
})

describe('fromGeminiSchema', () => {
  it('lower-cases OpenAPI type names recursively and leaves values alone', () => {
    const schema = {
      type: 'OBJECT',
      properties: {list: {type: 'ARRAY', items: {type: 'STRING', enum: ['A', 'B']}}, u: {anyOf: [{type: 'NUMBER'}]}},
    }
    expect(fromGeminiSchema(schema)).toEqual({
      type: 'object',
      properties: {list: {type: 'array', items: {type: 'string', enum: ['A', 'B']}}, u: {anyOf: [{type: 'number'}]}},
    })
  })
})
